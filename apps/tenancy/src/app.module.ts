import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule, TokenVerifier } from '@iip/platform-auth';
import { platformEnhancers } from '@iip/platform-grpc';
import { AppLogger, HealthRegistry, Metrics, ObservabilityModule } from '@iip/platform-observability';
import { AccessModule } from './access/access.module';
import { TenancyInfra, TenancyInfraModule } from './infra.module';
import { OAuthModule } from './oauth/oauth.module';
import { OnboardingModule } from './onboarding/onboarding.module';
import { TenantsModule } from './tenants/tenants.module';

export interface TenancyModuleDeps {
  infra: TenancyInfra;
  verifier: TokenVerifier;
  logger: AppLogger;
  metrics: Metrics;
  health: HealthRegistry;
}

/** Wires the feature modules to the platform modules; holds no behaviour. */
@Module({})
export class AppModule {
  static forRoot(deps: TenancyModuleDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forRoot({ logger: deps.logger, metrics: deps.metrics, health: deps.health }),
        AuthModule.forRoot(deps.verifier),
        TenancyInfraModule.forRoot(deps.infra),
        TenantsModule,
        AccessModule,
        OAuthModule,
        OnboardingModule,
      ],
      providers: platformEnhancers,
    };
  }
}
