# One image per service, built from the whole monorepo:
#   docker build --build-arg SERVICE=tenancy -t iip/tenancy:latest .
# The runtime image holds every compiled app under dist/apps/, so SERVICE can also be
# switched at run time (-e SERVICE=...); the build arg only sets the default.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------
# build: all dependencies, gRPC/TypeScript codegen from proto/, swc compile to dist/
# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# @scarf/scarf (a transitive dependency) phones home from its install script.
ENV SCARF_ANALYTICS=false \
    NX_DAEMON=false

COPY package.json package-lock.json .npmrc ./
RUN npm ci

COPY . .
# libs/contracts/src/generated is excluded by .dockerignore and always regenerated here.
RUN npx buf generate \
 && node scripts/build.mjs

# ---------------------------------------------------------------------------------------
# runtime: production dependencies, compiled code and the .proto contracts only
# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=tenancy
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    SCARF_ANALYTICS=false \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app

COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev \
 && npm cache clean --force

# Owned by root, so `node` can read but not change them. The app never writes to its own
# files, so the container also runs with a read-only root filesystem (compose read_only, k8s).
COPY --from=build /app/dist ./dist
# The gRPC servers load their .proto files at run time; protoRoot() finds this folder by
# walking up from dist/libs/contracts/src.
COPY --from=build /app/proto ./proto

USER node

# Ports depend on the service (tenancy: HTTP 3100, gRPC 50100; see ARCHITECTURE.md); they are
# published by docker-compose.yml and k8s/ rather than declared here.

# Shell form so ${SERVICE} expands; `exec` makes node PID 1 so it receives SIGTERM directly
# and shuts down cleanly (main.ts handles SIGTERM/SIGINT).
CMD exec node dist/apps/${SERVICE}/src/main.js
