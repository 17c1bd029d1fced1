import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ProtoFiles, ProtoPackages, protoRoot } from '@iip/contracts';
import { SecretBox } from '@iip/platform-auth';
import { GrpcServeSettings } from '@iip/platform-grpc';
import { AppLogger } from '@iip/platform-observability';
import { ServiceDescription, ServiceRuntime } from '@iip/platform-runtime';
import { AppModule } from './app.module';
import { IdentifierConfig } from './config';
import { IdentifierEntity, IdentifierValueEntity } from './identifiers/identifier.entity';
import { identifierMigrations } from './migrations';
import { DelegationEntity, PrefixEntity } from './prefixes/prefix.entity';
import { NodeSettings, PrefixesService } from './prefixes/prefixes.service';
import { sendHandleError } from './resolution/handle-api.filter';
import { grpcResolveFastPath } from './resolution/grpc-fast-path';
import { resolutionFastPath } from './resolution/resolution-fast-path';
import { ResolutionService } from './resolution/resolution.service';
import { TemplateEntity } from './templates/template.entity';
import { NativeHandleProtocol } from './native/native-handle.service';
import { NativeHandleServer } from './native/native-handle.server';
import { DeviceIdentifiersService } from './devices/device-identifiers.service';
import { NativeChallenges } from './native/native-auth';
import { IdentifiersRepository } from './identifiers/identifiers.repository';
import { IdentifiersService } from './identifiers/identifiers.service';
import { IdentifierQueriesService } from './identifiers/identifier-queries.service';
import { HandleIdentityAuthenticator } from './identities/handle-identity.authenticator';
import { IDENTIFIER_REDIS } from './resolution/record-cache';
import { Redis } from '@iip/platform-redis';
import { SiteJson } from './native/native-values';

/** The ports the native Handle interfaces of a started node listen on (tests start them on free ports). */
export const nativePorts = new WeakMap<ServiceRuntime, NativeHandleServer['ports']>();

/** The node's site as its prefix record's HS_SITE: one primary server; queries over UDP, TCP and HTTP, administration over TCP and HTTP. */
function nodeSite(address: string, ports: NativeHandleServer['ports']): SiteJson {
  return {
    version: 1,
    protocolVersion: '2.11',
    serialNumber: 1,
    primaryMask: { primary: true, multiPrimary: false },
    hashOption: 0,
    hashFilter: '',
    attributes: [{ name: 'desc', value: 'IIP identifier node' }],
    servers: [
      {
        serverId: 1,
        address,
        publicKey: { format: 'base64', value: '' },
        interfaces: [
          { query: true, admin: false, protocol: 'UDP', port: ports.udp },
          { query: true, admin: true, protocol: 'TCP', port: ports.tcp },
          { query: true, admin: true, protocol: 'HTTP', port: ports.http },
        ],
      },
    ],
  };
}

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
    const node: NodeSettings = {
      nodePrefix: config.IDENTIFIER_NODE_PREFIX,
      prefixStart: config.IDENTIFIER_PREFIX_START,
      defaultTtl: config.IDENTIFIER_DEFAULT_TTL,
      role: config.IDENTIFIER_NODE_ROLE,
      secretBox: new SecretBox(config.IDENTIFIER_KEY_ENCRYPTION_SECRET),
      identityFailures: {
        perSubject: config.IDENTIFIER_IDENTITY_MAX_FAILURES_PER_MINUTE,
        perSource: config.IDENTIFIER_IDENTITY_MAX_FAILURES_PER_SOURCE_PER_MINUTE,
      },
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
    const grpc: GrpcServeSettings = { protoRoot: protoRoot(), protoFiles: [ProtoFiles.identifier], packages: [ProtoPackages.identifier] };
    grpc.unaryFastPaths = [grpcResolveFastPath(app.get(ResolutionService), runtime.metrics)];
    await runtime.serve(
      app,
      {
        host: config.IDENTIFIER_HOST,
        httpPort: config.IDENTIFIER_HTTP_PORT,
        grpcPort: config.IDENTIFIER_GRPC_PORT,
        grpc,
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
      async () => {
        await app.get(PrefixesService).ensureNodePrefix();
        await app.get(DeviceIdentifiersService).ensureTemplate();
      },
    );
    const redis = app.get<Redis>(IDENTIFIER_REDIS);
    const native = new NativeHandleServer(
      new NativeHandleProtocol(app.get(ResolutionService), () => node.site, runtime.logger, {
        identifiers: app.get(IdentifiersService),
        repository: app.get(IdentifiersRepository),
        challenges: new NativeChallenges(redis),
        failures: app.get(HandleIdentityAuthenticator).failures,
        secretBox: node.secretBox,
        queries: app.get(IdentifierQueriesService),
      }),
      runtime.logger,
    );
    runtime.onClose(() => native.close());
    await native.listen({
      host: config.IDENTIFIER_HOST,
      port: config.IDENTIFIER_HANDLE_PORT,
      httpPort: config.IDENTIFIER_HANDLE_HTTP_PORT,
    });
    node.site = nodeSite(config.IDENTIFIER_HANDLE_PUBLIC_ADDRESS, native.ports);
    nativePorts.set(runtime, native.ports);
    return runtime;
  });
}
