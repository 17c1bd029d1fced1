import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule, TokenVerifier } from '@iip/platform-auth';
import { platformEnhancers } from '@iip/platform-grpc';
import { ObservabilityModule } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { DeviceRegistryInfraModule, DevicesModule, ModelsModule, RegistryInfraSettings, TenantsModule } from './device-registry.module';
import { RenewalProjectsModule } from './renewal/projects.module';
import { RenewalModule, RenewalSettings } from './renewal/renewal.module';

/** Wires the feature modules to the platform modules; holds no behaviour. */
@Module({})
export class AppModule {
  static forRoot(
    runtime: ServiceRuntime,
    verifier: TokenVerifier,
    settings: RegistryInfraSettings,
    renewal: RenewalSettings,
  ): DynamicModule {
    const renewalModule = RenewalModule.forRoot(renewal);
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forRoot({ logger: runtime.logger, metrics: runtime.metrics, health: runtime.health }),
        AuthModule.forRoot(verifier),
        DeviceRegistryInfraModule.forRoot(runtime, settings),
        TenantsModule,
        ModelsModule,
        DevicesModule,
        renewalModule,
        RenewalProjectsModule.forRoot(renewalModule),
      ],
      providers: platformEnhancers,
    };
  }
}
