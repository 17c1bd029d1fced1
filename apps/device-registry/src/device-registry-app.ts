import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ProtoFiles, ProtoPackages, protoRoot } from '@iip/contracts';
import { AppLogger } from '@iip/platform-observability';
import { ServiceDescription, ServiceRuntime } from '@iip/platform-runtime';
import { AppModule } from './app.module';
import { DeviceRegistryConfig } from './config';
import { IMPORT_MEDIA_TYPES } from './imports/import-input';
import { deviceRegistryMigrations } from './migrations';

export const DEVICE_REGISTRY_SERVICE: ServiceDescription = {
  name: 'device-registry',
  schema: 'device_registry',
  entities: [],
  migrations: deviceRegistryMigrations,
};

/** Builds, migrates and starts the device registry: used by main.ts and by the tests alike. */
export async function startDeviceRegistry(config: DeviceRegistryConfig, options: { logger?: AppLogger } = {}): Promise<ServiceRuntime> {
  const runtime = await ServiceRuntime.open(DEVICE_REGISTRY_SERVICE, config, options.logger);
  return runtime.guard(async () => {
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(
        runtime,
        runtime.tokenVerifier(),
        {
          publicUrl: config.DEVICE_REGISTRY_PUBLIC_URL,
          td: { publicUrl: config.DEVICE_REGISTRY_PUBLIC_URL, tokenUrl: config.DEVICE_REGISTRY_TOKEN_URL },
          modelCacheSize: config.DEVICE_REGISTRY_MODEL_CACHE_SIZE,
          credentialKey: config.DEVICE_REGISTRY_CREDENTIAL_KEY,
          credentialCache: { size: config.DEVICE_REGISTRY_CREDENTIAL_CACHE_SIZE, ttlMs: config.DEVICE_REGISTRY_CREDENTIAL_CACHE_TTL_MS },
          tenancyGrpcUrl: config.DEVICE_REGISTRY_TENANCY_GRPC_URL,
          imports: {
            maxRows: config.DEVICE_REGISTRY_IMPORT_MAX_ROWS,
            maxBytes: config.DEVICE_REGISTRY_IMPORT_MAX_MB * 1024 * 1024,
            chunkRows: config.DEVICE_REGISTRY_IMPORT_CHUNK_ROWS,
            pollIntervalMs: config.DEVICE_REGISTRY_IMPORT_POLL_MS,
          },
        },
        { snapshotPollMs: config.DEVICE_REGISTRY_RENEWAL_SNAPSHOT_POLL_MS },
      ),
      runtime.nestOptions(),
    );
    await runtime.serve(app, {
      host: config.DEVICE_REGISTRY_HOST,
      httpPort: config.DEVICE_REGISTRY_HTTP_PORT,
      grpcPort: config.DEVICE_REGISTRY_GRPC_PORT,
      grpc: {
        protoRoot: protoRoot(),
        protoFiles: [ProtoFiles.deviceRegistry, ProtoFiles.deviceRegistryRenewal, ProtoFiles.deviceRegistryRenewalIndicators],
        packages: [ProtoPackages.deviceRegistry],
      },
      jsonLimit: config.DEVICE_REGISTRY_JSON_LIMIT,
      // Imports are read as streams by their route (up to a million rows), never buffered.
      streamTypes: IMPORT_MEDIA_TYPES,
      openApi: {
        title: 'IIP device registry',
        description:
          'Thing models (W3C WoT TD import and export), devices with their industrial internet identifiers, lifecycle and equipment profiles.',
        version: '1',
      },
    });
    return runtime;
  });
}
