import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ProtoFiles, ProtoPackages, protoRoot } from '@iip/contracts';
import { AppLogger } from '@iip/platform-observability';
import { ServiceDescription, ServiceRuntime } from '@iip/platform-runtime';
import { AppModule } from './app.module';
import { IdentifierConfig } from './config';
import { IdentifierEntity, IdentifierValueEntity } from './identifiers/identifier.entity';
import { identifierMigrations } from './migrations';
import { DelegationEntity, PrefixEntity } from './prefixes/prefix.entity';
import { PrefixesService } from './prefixes/prefixes.service';
import { sendHandleError } from './resolution/handle-api.filter';
import { resolutionFastPath } from './resolution/resolution-fast-path';
import { ResolutionService } from './resolution/resolution.service';
import { TemplateEntity } from './templates/template.entity';

export const IDENTIFIER_SERVICE: ServiceDescription = {
  name: 'identifier',
  schema: 'identifier',
  entities: [PrefixEntity, DelegationEntity, IdentifierEntity, IdentifierValueEntity, TemplateEntity],
  migrations: identifierMigrations,
};

/** Builds, migrates and starts the identifier service: used by main.ts and by the tests alike. */
export async function startIdentifier(config: IdentifierConfig, options: { logger?: AppLogger } = {}): Promise<ServiceRuntime> {
  const runtime = await ServiceRuntime.open(IDENTIFIER_SERVICE, config, options.logger);
  return runtime.guard(async () => {
    const verifier = runtime.tokenVerifier();
    const node = {
      nodePrefix: config.IDENTIFIER_NODE_PREFIX,
      prefixStart: config.IDENTIFIER_PREFIX_START,
      defaultTtl: config.IDENTIFIER_DEFAULT_TTL,
      role: config.IDENTIFIER_NODE_ROLE,
    };
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(
        runtime,
        verifier,
        node,
        { maxBytes: config.IDENTIFIER_CACHE_MB * 1024 * 1024 },
        {
          staleWindowS: config.IDENTIFIER_STALE_WINDOW_S,
          maxHops: config.IDENTIFIER_MAX_HOPS,
          timeoutMs: config.IDENTIFIER_UPSTREAM_TIMEOUT_MS,
        },
      ),
      runtime.nestOptions(),
    );
    // GET answers carry no body-hash ETag on either path (fast or framework): the ETag that means
    // something here is the identifier version a PUT returns, for If-Match.
    app.set('etag', false);
    await runtime.serve(
      app,
      {
        host: config.IDENTIFIER_HOST,
        httpPort: config.IDENTIFIER_HTTP_PORT,
        grpcPort: config.IDENTIFIER_GRPC_PORT,
        grpc: { protoRoot: protoRoot(), protoFiles: [ProtoFiles.identifier], packages: [ProtoPackages.identifier] },
        jsonLimit: config.IDENTIFIER_JSON_LIMIT,
        fastPath: resolutionFastPath(app.get(ResolutionService), runtime.logger, runtime.metrics),
        // Handle clients read `responseCode` on every /api/ error, body-parsing ones included
        // (routes no controller serves are HandleApiFallbackController's).
        errorShapes: [{ pathPrefix: '/api/', send: (req, res, err) => sendHandleError(res, req, err, runtime.logger) }],
        openApi: {
          title: 'IIP identifier',
          description: 'Handle-compatible identifier resolution (GET/PUT/DELETE /api/handles/{handle}), prefixes and registration.',
          version: '1',
        },
      },
      () => app.get(PrefixesService).ensureNodePrefix(),
    );
    return runtime;
  });
}
