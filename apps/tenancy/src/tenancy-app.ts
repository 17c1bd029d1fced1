import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { ProtoFiles, ProtoPackages, protoRoot } from '@iip/contracts';
import { AppLogger } from '@iip/platform-observability';
import { ServiceDescription, ServiceRuntime } from '@iip/platform-runtime';
import { DataGrantEntity } from './access/data-grant.entity';
import { AppModule } from './app.module';
import { TenancyConfig } from './config';
import { TenancyOutbox } from './messaging/tenancy-outbox';
import { tenancyMigrations } from './migrations';
import { ClientsService } from './oauth/clients.service';
import { OAuthClientEntity } from './oauth/oauth-client.entity';
import { sendOAuthPreRoutingError } from './oauth/oauth.errors';
import { ALL_SCOPES } from './oauth/scopes';
import { SigningKeyEntity } from './oauth/signing-key.entity';
import { SigningKeysService } from './oauth/signing-keys.service';
import { BULK_MEDIA_TYPES } from './onboarding/onboarding.controller';
import { OnboardingJobEntity, OnboardingJobRowEntity } from './onboarding/onboarding-job.entity';
import { TenantEntity } from './tenants/tenant.entity';
import { TenantsService } from './tenants/tenants.service';

export const TENANCY_SERVICE: ServiceDescription = {
  name: 'tenancy',
  schema: 'tenancy',
  entities: [TenantEntity, OAuthClientEntity, SigningKeyEntity, OnboardingJobEntity, OnboardingJobRowEntity, DataGrantEntity],
  migrations: tenancyMigrations,
};

export interface RunningTenancy {
  app: INestApplication;
  httpUrl: string;
  grpcUrl: string;
  dataSource: DataSource;
  logger: AppLogger;
  platformTenantId: string;
  operatorClientId: string;
  /** Only on the first start without OPERATOR_CLIENT_SECRET: shown once, never stored. */
  generatedOperatorSecret?: string;
  close(): Promise<void>;
}

/** Builds, migrates and starts tenancy: used by main.ts and by the tests alike. */
export async function startTenancy(config: TenancyConfig, options: { logger?: AppLogger } = {}): Promise<RunningTenancy> {
  const runtime = await ServiceRuntime.open(TENANCY_SERVICE, config, options.logger);
  return runtime.guard(async () => {
    const { dataSource, logger } = runtime;
    const keySettings = {
      encryptionSecret: config.TENANCY_KEY_ENCRYPTION_SECRET,
      rotationHours: config.SIGNING_KEY_ROTATION_HOURS,
      tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    };
    const signingKeys = new SigningKeysService(dataSource, keySettings);
    await signingKeys.ensureActiveKey();
    // Tenancy verifies its own tokens against its key store, without an HTTP round trip.
    const verifier = runtime.tokenVerifier(signingKeys.keyResolver());

    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({
        infra: {
          dataSource,
          redis: runtime.redis,
          outbox: new TenancyOutbox(runtime.outboxWriter),
          signingKeys,
          keySettings,
          tokenSettings: {
            issuer: config.AUTH_ISSUER,
            maxFailuresPerMinute: config.TOKEN_MAX_FAILURES_PER_MINUTE,
            maxFailuresPerSourcePerMinute: config.TOKEN_MAX_FAILURES_PER_SOURCE_PER_MINUTE,
          },
          onboardingPollMs: config.ONBOARDING_POLL_MS,
        },
        verifier,
        logger,
        metrics: runtime.metrics,
        health: runtime.health,
      }),
      runtime.nestOptions(),
    );

    if (config.TENANCY_TRUST_PROXY !== undefined) app.set('trust proxy', trustProxySetting(config.TENANCY_TRUST_PROXY));

    let platformTenantId = '';
    let operator: { clientId: string; generatedSecret?: string } = { clientId: '' };
    await runtime.serve(
      app,
      {
        host: config.TENANCY_HOST,
        httpPort: config.TENANCY_HTTP_PORT,
        grpcPort: config.TENANCY_GRPC_PORT,
        grpc: { protoRoot: protoRoot(), protoFiles: [ProtoFiles.tenancy], packages: [ProtoPackages.tenancy] },
        jsonLimit: config.HTTP_JSON_LIMIT,
        textTypes: BULK_MEDIA_TYPES,
        textLimit: config.BULK_BODY_LIMIT,
        // OAuth clients read RFC 6749 errors from the token endpoint, body-parsing ones included.
        errorShapes: [{ pathPrefix: '/oauth/token', send: sendOAuthPreRoutingError }],
        openApi: {
          title: 'IIP tenancy',
          description: 'Tenants (groups, subsidiaries, parks, members), OAuth2 clients and tokens, data grants.',
          version: '1',
        },
      },
      // The platform tenant and operator client exist before the first request can arrive.
      async () => {
        const platform = await app.get(TenantsService).ensurePlatformTenant(config.PLATFORM_TENANT_NAME, config.PLATFORM_CREDIT_CODE);
        platformTenantId = platform.id;
        operator = await app
          .get(ClientsService)
          .ensureOperatorClient(
            platform.id,
            ALL_SCOPES,
            config.OPERATOR_CLIENT_ID && config.OPERATOR_CLIENT_SECRET
              ? { clientId: config.OPERATOR_CLIENT_ID, secret: config.OPERATOR_CLIENT_SECRET }
              : undefined,
          );
      },
    );

    const rotation = setInterval(() => {
      signingKeys.ensureActiveKey().catch((err: unknown) => logger.error({ err }, 'signing key rotation check failed'));
    }, 3600_000);
    rotation.unref();
    runtime.onClose(() => clearInterval(rotation));

    return {
      app,
      httpUrl: runtime.httpUrl,
      grpcUrl: runtime.grpcUrl,
      dataSource,
      logger,
      platformTenantId,
      operatorClientId: operator.clientId,
      generatedOperatorSecret: operator.generatedSecret,
      close: () => runtime.close(),
    };
  });
}

/** "true"/"false", a hop count, or Express's names and addresses (comma-separated), as Express reads them. */
function trustProxySetting(value: string): boolean | number | string[] {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
