import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { ProtoFiles, ProtoPackages, protoRoot } from '@iip/contracts';
import { TokenVerifier } from '@iip/platform-auth';
import { createServiceDataSource, ensureDatabase, migrate } from '@iip/platform-database';
import { grpcServerOptions, resolveGrpcPort } from '@iip/platform-grpc';
import { setupHttp } from '@iip/platform-http';
import { OutboxRelay, OutboxWriter, TopicProvisioner, createIdempotentProducer, createKafka, kafkaHealth } from '@iip/platform-kafka';
import { AppLogger, HealthRegistry, Metrics, NestPinoLogger, createLogger } from '@iip/platform-observability';
import { createRedis, redisHealth } from '@iip/platform-redis';
import { DataGrantEntity } from './access/data-grant.entity';
import { AppModule } from './app.module';
import { TenancyConfig } from './config';
import { TenancyOutbox } from './messaging/tenancy-outbox';
import { tenancyMigrations } from './migrations';
import { ClientsService } from './oauth/clients.service';
import { OAuthClientEntity } from './oauth/oauth-client.entity';
import { ALL_SCOPES } from './oauth/scopes';
import { SigningKeyEntity } from './oauth/signing-key.entity';
import { SigningKeysService } from './oauth/signing-keys.service';
import { BULK_MEDIA_TYPES } from './onboarding/onboarding.controller';
import { OnboardingJobEntity, OnboardingJobRowEntity } from './onboarding/onboarding-job.entity';
import { TenantEntity } from './tenants/tenant.entity';
import { TenantsService } from './tenants/tenants.service';

export const TENANCY_SCHEMA = 'tenancy';
export const TENANCY_ENTITIES = [
  TenantEntity,
  OAuthClientEntity,
  SigningKeyEntity,
  OnboardingJobEntity,
  OnboardingJobRowEntity,
  DataGrantEntity,
];

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

/** Creates the database if missing and connects to tenancy's schema (migrations need poolSize ≥ 2). */
export async function openTenancyDatabase(url: string, poolSize: number): Promise<DataSource> {
  await ensureDatabase(url);
  const dataSource = createServiceDataSource({
    url,
    schema: TENANCY_SCHEMA,
    entities: TENANCY_ENTITIES,
    migrations: tenancyMigrations,
    poolSize,
  });
  return dataSource.initialize();
}

/** Builds, migrates and starts tenancy: used by main.ts and by the tests alike. */
export async function startTenancy(config: TenancyConfig, options: { logger?: AppLogger } = {}): Promise<RunningTenancy> {
  const logger = options.logger ?? createLogger('tenancy', config.LOG_LEVEL);
  const metrics = new Metrics('tenancy');
  const health = new HealthRegistry();

  // Whatever was started is stopped again, in reverse order, on close or on a failed start.
  const closers: (() => Promise<unknown> | void)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    closers.length = 0;
    logger.flush();
  };
  try {
    return await assemble();
  } catch (err) {
    await closeAll();
    throw err;
  }

  async function assemble(): Promise<RunningTenancy> {
    const dataSource = await openTenancyDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
    closers.push(() => dataSource.destroy());
    const applied = await migrate(dataSource, TENANCY_SCHEMA);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
    health.register({ name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) });

    const redis = createRedis(config.REDIS_URL, `${config.REDIS_KEY_PREFIX}tenancy:`);
    closers.push(() => redis.disconnect());
    health.register(redisHealth(redis));

    const kafka = createKafka(
      {
        brokers: config.KAFKA_BROKERS,
        clientId: config.KAFKA_CLIENT_ID ?? 'iip-tenancy',
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      },
      logger,
    );
    const admin = kafka.admin();
    closers.push(() => admin.disconnect());
    health.register(kafkaHealth(admin));
    const producer = createIdempotentProducer(kafka);
    const relay = new OutboxRelay(
      dataSource,
      producer,
      new TopicProvisioner(admin, { partitions: config.KAFKA_TOPIC_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR }),
      logger,
      {
        schema: TENANCY_SCHEMA,
        pollIntervalMs: config.OUTBOX_POLL_MS,
        onPublished: (topic, count) => metrics.kafkaMessages.inc({ topic, outcome: 'published' }, count),
      },
    );
    const outbox = new TenancyOutbox(new OutboxWriter(config.KAFKA_TOPIC_PREFIX, () => relay.wake()));

    const keySettings = {
      encryptionSecret: config.TENANCY_KEY_ENCRYPTION_SECRET,
      rotationHours: config.SIGNING_KEY_ROTATION_HOURS,
      tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    };
    const signingKeys = new SigningKeysService(dataSource, keySettings);
    await signingKeys.ensureActiveKey();
    const verifier = new TokenVerifier({ issuer: config.AUTH_ISSUER, keys: signingKeys.keyResolver() });

    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({
        infra: {
          dataSource,
          redis,
          outbox,
          signingKeys,
          keySettings,
          tokenSettings: { issuer: config.AUTH_ISSUER, maxFailuresPerMinute: config.TOKEN_MAX_FAILURES_PER_MINUTE },
          onboardingPollMs: config.ONBOARDING_POLL_MS,
        },
        verifier,
        logger,
        metrics,
        health,
      }),
      { bodyParser: false, logger: new NestPinoLogger(logger), abortOnError: false },
    );
    closers.push(() => app.close());
    setupHttp(app, {
      logger,
      metrics,
      jsonLimit: config.HTTP_JSON_LIMIT,
      textTypes: BULK_MEDIA_TYPES,
      textLimit: config.BULK_BODY_LIMIT,
      openApi: {
        title: 'IIP tenancy',
        description: 'Tenants (groups, subsidiaries, parks, members), OAuth2 clients and tokens, data grants.',
        version: '1',
      },
    });
    const grpcPort = await resolveGrpcPort(config.TENANCY_HOST, config.TENANCY_GRPC_PORT);
    app.connectMicroservice(
      grpcServerOptions({
        url: `${config.TENANCY_HOST}:${grpcPort}`,
        protoRoot: protoRoot(),
        protoFiles: [ProtoFiles.tenancy],
        packages: [ProtoPackages.tenancy],
      }),
      // The gRPC server shares the global error filter, interceptors and guard.
      { inheritAppConfig: true },
    );

    // The platform tenant and operator client exist before the first request can arrive.
    await app.init();
    const platform = await app.get(TenantsService).ensurePlatformTenant(config.PLATFORM_TENANT_NAME, config.PLATFORM_CREDIT_CODE);
    const operator = await app
      .get(ClientsService)
      .ensureOperatorClient(
        platform.id,
        ALL_SCOPES,
        config.OPERATOR_CLIENT_ID && config.OPERATOR_CLIENT_SECRET
          ? { clientId: config.OPERATOR_CLIENT_ID, secret: config.OPERATOR_CLIENT_SECRET }
          : undefined,
      );

    await app.startAllMicroservices();
    await app.listen(config.TENANCY_HTTP_PORT, config.TENANCY_HOST);
    relay.start();
    closers.push(() => relay.stop());
    const rotation = setInterval(() => {
      signingKeys.ensureActiveKey().catch((err: unknown) => logger.error({ err }, 'signing key rotation check failed'));
    }, 3600_000);
    rotation.unref();
    closers.push(() => clearInterval(rotation));

    const httpAddress = app.getHttpServer().address() as AddressInfo;
    const host = config.TENANCY_HOST === '0.0.0.0' ? '127.0.0.1' : config.TENANCY_HOST;

    return {
      app,
      httpUrl: `http://${host}:${httpAddress.port}`,
      grpcUrl: `${host}:${grpcPort}`,
      dataSource,
      logger,
      platformTenantId: platform.id,
      operatorClientId: operator.clientId,
      generatedOperatorSecret: operator.generatedSecret,
      close: closeAll,
    };
  }
}
