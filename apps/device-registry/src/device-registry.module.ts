import { DynamicModule, Global, Module } from '@nestjs/common';
import { ServiceRuntime } from '@iip/platform-runtime';
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

export interface RegistryInfraSettings {
  publicUrl: string;
  td: TdSettings;
  modelCacheSize: number;
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
    ];
    return { module: DeviceRegistryInfraModule, providers, exports: providers.map((p) => p.provide) };
  }
}

@Module({
  providers: [TenantsRepository, TenantsConsumer],
  exports: [TenantsRepository],
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
  controllers: [DevicesController, DeviceRegistryGrpcController],
  providers: [DevicesRepository, DevicesService, IdentifiersConsumer],
})
export class DevicesModule {}
