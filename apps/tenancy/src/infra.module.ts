import { DynamicModule, Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Redis } from '@iip/platform-redis';
import { TenancyOutbox } from './messaging/tenancy-outbox';
import { ONBOARDING_WORKER_SETTINGS } from './onboarding/onboarding.worker';
import { KEY_SETTINGS, KeySettings, SigningKeysService } from './oauth/signing-keys.service';
import { TENANCY_REDIS, TOKEN_SETTINGS, TokenSettings } from './oauth/token.service';
import { TENANCY_DATA_SOURCE } from './tenants/tenants.repository';

export interface TenancyInfra {
  dataSource: DataSource;
  redis: Redis;
  outbox: TenancyOutbox;
  signingKeys: SigningKeysService;
  keySettings: KeySettings;
  tokenSettings: TokenSettings;
  onboardingPollMs: number;
}

/** Connections and settings built before Nest starts, shared by the feature modules. */
@Global()
@Module({})
export class TenancyInfraModule {
  static forRoot(infra: TenancyInfra): DynamicModule {
    const providers = [
      { provide: TENANCY_DATA_SOURCE, useValue: infra.dataSource },
      { provide: TENANCY_REDIS, useValue: infra.redis },
      { provide: TenancyOutbox, useValue: infra.outbox },
      { provide: SigningKeysService, useValue: infra.signingKeys },
      { provide: KEY_SETTINGS, useValue: infra.keySettings },
      { provide: TOKEN_SETTINGS, useValue: infra.tokenSettings },
      { provide: ONBOARDING_WORKER_SETTINGS, useValue: { pollIntervalMs: infra.onboardingPollMs } },
    ];
    return { module: TenancyInfraModule, providers, exports: providers.map((p) => p.provide) };
  }
}
