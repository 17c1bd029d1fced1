import { DynamicModule, Global, Module } from '@nestjs/common';
import { KeyedSecretHash } from '@iip/platform-auth';
import { ServiceRuntime } from '@iip/platform-runtime';
import { CREDENTIAL_CACHE_SETTINGS, CredentialCache } from './credentials/credential-cache';
import { CredentialsController } from './credentials/credentials.controller';
import { CredentialsRepository } from './credentials/credentials.repository';
import { CREDENTIAL_HASH, CredentialsService } from './credentials/credentials.service';
import { FleetController } from './fleet/fleet.controller';
import { ImportsController } from './imports/imports.controller';
import { ImportsRepository } from './imports/imports.repository';
import { IMPORT_SETTINGS, ImportSettings, ImportsService } from './imports/imports.service';
import { IMPORT_WORKER_SETTINGS, ImportsWorker } from './imports/imports.worker';
import { TwinsController } from './twins/twins.controller';
import { TwinsRepository } from './twins/twins.repository';
import { TwinsService } from './twins/twins.service';
import { TwinWatchService } from './twins/twin-watch.service';
import { DeviceRegistryGrpcController } from './devices/device-registry.grpc-controller';
import { DevicesController } from './devices/devices.controller';
import { DevicesRepository } from './devices/devices.repository';
import { DevicesService, REGISTRY_SETTINGS } from './devices/devices.service';
import { IdentifiersConsumer } from './identifiers/identifiers.consumer';
import { DeviceRegistryOutbox } from './messaging/device-registry-outbox';
import { CompiledModels, MODEL_CACHE_SETTINGS } from './models/compiled-models';
import { ModelsController } from './models/models.controller';
import { ModelsRepository } from './models/models.repository';
import { ModelsService, TD_SETTINGS, TdSettings } from './models/models.service';
import { TenantsConsumer } from './tenants/tenants.consumer';
import { DEVICE_REGISTRY_DATA_SOURCE, TenantsRepository } from './tenants/tenants.repository';
import { TENANCY_ACCESS_SETTINGS, TenancyAccess } from './tenants/tenancy-access';

export interface RegistryInfraSettings {
  publicUrl: string;
  td: TdSettings;
  modelCacheSize: number;
  credentialKey: string;
  credentialCache: { size: number; ttlMs: number };
  imports: ImportSettings & { pollIntervalMs: number };
  tenancyGrpcUrl: string;
}

/** The runtime's connections and the registry's settings, shared by the feature modules. */
@Global()
@Module({})
export class DeviceRegistryInfraModule {
  static forRoot(runtime: ServiceRuntime, settings: RegistryInfraSettings): DynamicModule {
    const providers = [
      { provide: ServiceRuntime, useValue: runtime },
      { provide: DEVICE_REGISTRY_DATA_SOURCE, useValue: runtime.dataSource },
      { provide: DeviceRegistryOutbox, useValue: new DeviceRegistryOutbox(runtime.outboxWriter) },
      { provide: REGISTRY_SETTINGS, useValue: { publicUrl: settings.publicUrl } },
      { provide: TD_SETTINGS, useValue: settings.td },
      { provide: MODEL_CACHE_SETTINGS, useValue: { size: settings.modelCacheSize } },
      { provide: CREDENTIAL_HASH, useValue: new KeyedSecretHash(settings.credentialKey) },
      { provide: CREDENTIAL_CACHE_SETTINGS, useValue: settings.credentialCache },
      { provide: IMPORT_SETTINGS, useValue: settings.imports },
      { provide: TENANCY_ACCESS_SETTINGS, useValue: { grpcUrl: settings.tenancyGrpcUrl } },
      { provide: IMPORT_WORKER_SETTINGS, useValue: { pollIntervalMs: settings.imports.pollIntervalMs } },
    ];
    return { module: DeviceRegistryInfraModule, providers, exports: providers.map((p) => p.provide) };
  }
}

@Module({
  providers: [TenantsRepository, TenantsConsumer, TenancyAccess],
  exports: [TenantsRepository, TenancyAccess],
})
export class TenantsModule {}

@Module({
  imports: [TenantsModule],
  controllers: [ModelsController],
  providers: [ModelsRepository, ModelsService, CompiledModels],
  exports: [ModelsService],
})
export class ModelsModule {}

@Module({
  imports: [TenantsModule, ModelsModule],
  controllers: [
    DevicesController,
    FleetController,
    ImportsController,
    CredentialsController,
    TwinsController,
    DeviceRegistryGrpcController,
  ],
  providers: [
    DevicesRepository,
    DevicesService,
    IdentifiersConsumer,
    CredentialsRepository,
    CredentialsService,
    CredentialCache,
    TwinsRepository,
    TwinsService,
    TwinWatchService,
    ImportsRepository,
    ImportsService,
    ImportsWorker,
  ],
  // Renewal projects decommission and link devices through the devices' own service.
  exports: [DevicesService, DevicesRepository],
})
export class DevicesModule {}
