import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule, TokenVerifier } from '@iip/platform-auth';
import { platformEnhancers } from '@iip/platform-grpc';
import { ObservabilityModule } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TelemetryInfraModule, TelemetryModule, TelemetrySettings } from './telemetry.module';

/** Wires the feature module to the platform modules; holds no behaviour. */
@Module({})
export class AppModule {
  static forRoot(runtime: ServiceRuntime, verifier: TokenVerifier, settings: TelemetrySettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forRoot({ logger: runtime.logger, metrics: runtime.metrics, health: runtime.health }),
        AuthModule.forRoot(verifier),
        TelemetryInfraModule.forRoot(runtime, settings),
        TelemetryModule,
      ],
      providers: platformEnhancers,
    };
  }
}
