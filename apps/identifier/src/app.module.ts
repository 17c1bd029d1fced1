import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule, TokenVerifier } from '@iip/platform-auth';
import { platformEnhancers } from '@iip/platform-grpc';
import { ObservabilityModule } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { HandlesModule, IdentifierInfraModule, PrefixesModule } from './identifier.module';
import { NodeSettings } from './prefixes/prefixes.service';
import { CacheSettings } from './resolution/record-cache';
import { RemoteSettings } from './resolution/remote-resolver';

/** Wires the feature modules to the platform modules; holds no behaviour. */
@Module({})
export class AppModule {
  static forRoot(
    runtime: ServiceRuntime,
    verifier: TokenVerifier,
    node: NodeSettings,
    cache: CacheSettings,
    remote: RemoteSettings,
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forRoot({ logger: runtime.logger, metrics: runtime.metrics, health: runtime.health }),
        AuthModule.forRoot(verifier),
        IdentifierInfraModule.forRoot(runtime, node, cache, remote),
        PrefixesModule,
        HandlesModule,
      ],
      providers: platformEnhancers,
    };
  }
}
