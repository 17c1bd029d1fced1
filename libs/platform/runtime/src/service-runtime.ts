import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { AddressInfo } from 'node:net';
import { DataSource, DataSourceOptions, MigrationInterface } from 'typeorm';
import { Kafka, Admin } from 'kafkajs';
import type { JWTVerifyGetKey } from 'jose';
import { TokenVerifier } from '@iip/platform-auth';
import { PlatformConfig } from '@iip/platform-config';
import { createServiceDataSource, ensureDatabase, migrate } from '@iip/platform-database';
import { grpcServerOptions, resolveGrpcPort } from '@iip/platform-grpc';
import { HttpSetupOptions, setupHttp } from '@iip/platform-http';
import {
  IdempotentConsumer,
  IdempotentConsumerOptions,
  KafkaReadiness,
  OutboxRelay,
  OutboxWriter,
  TopicProvisioner,
  createControlPlaneKafka,
  createIdempotentProducer,
  createKafka,
  kafkaHealth,
  startWithRetry,
} from '@iip/platform-kafka';
import { AppLogger, HealthRegistry, Metrics, NestPinoLogger, createLogger } from '@iip/platform-observability';
import { Redis, createRedis, redisHealth } from '@iip/platform-redis';
import { RevocationFeed } from './revocation-feed';

export type RuntimeConfig = PlatformConfig;

export interface ServiceDescription {
  /** Service name: logs, metrics, Kafka client id, Redis key namespace. */
  name: string;
  /** The PostgreSQL schema the service owns. */
  schema: string;
  entities: DataSourceOptions['entities'];
  migrations: (new () => MigrationInterface)[];
}

export interface ServeOptions extends Omit<HttpSetupOptions, 'logger' | 'metrics'> {
  host: string;
  httpPort: number;
  grpcPort: number;
  grpc: { protoRoot: string; protoFiles: string[]; packages: string[] };
}

/** Opens the database (creating it and migrating the schema under a lock) with a pool of at least two. */
export async function openServiceDatabase(service: ServiceDescription, url: string, poolSize: number): Promise<DataSource> {
  await ensureDatabase(url);
  const dataSource = createServiceDataSource({
    url,
    schema: service.schema,
    entities: service.entities,
    migrations: service.migrations,
    poolSize: Math.max(2, poolSize),
  });
  return dataSource.initialize();
}

/**
 * What every IIP service runs on: JSON logger, metrics, health checks, its PostgreSQL schema
 * (migrated at start), Redis under its own key prefix, Kafka with an outbox relay, and the
 * HTTP + gRPC servers. Whatever was opened is closed again, in reverse order, on close() or on
 * a failed start.
 */
export class ServiceRuntime {
  readonly metrics: Metrics;
  readonly health = new HealthRegistry();
  private readonly closers: (() => Promise<unknown> | void)[] = [];
  dataSource!: DataSource;
  redis!: Redis;
  kafka!: Kafka;
  admin!: Admin;
  topics!: TopicProvisioner;
  relay!: OutboxRelay;
  outboxWriter!: OutboxWriter;
  /** Revoked clients and suspended tenants, fed from Kafka; tokenVerifier() consults it. */
  revocations!: RevocationFeed;
  httpUrl = '';
  grpcUrl = '';

  private constructor(
    readonly service: ServiceDescription,
    readonly config: RuntimeConfig,
    readonly logger: AppLogger,
  ) {
    this.metrics = new Metrics(service.name);
  }

  static async open(service: ServiceDescription, config: RuntimeConfig, logger?: AppLogger): Promise<ServiceRuntime> {
    const runtime = new ServiceRuntime(service, config, logger ?? createLogger(service.name, config.LOG_LEVEL));
    try {
      await runtime.connect();
      return runtime;
    } catch (err) {
      await runtime.close();
      throw err;
    }
  }

  /** Registers something to stop on close (in reverse order of registration). */
  onClose(close: () => Promise<unknown> | void): void {
    this.closers.push(close);
  }

  /** Runs `start`; if it throws, everything opened so far is closed before rethrowing. */
  async guard<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * The service's access token verifier: with `keys` (tenancy, its own key store) or tenancy's
   * JWKS (AUTH_JWKS_URL); either way it refuses the tokens of revoked clients and suspended tenants.
   */
  tokenVerifier(keys?: JWTVerifyGetKey): TokenVerifier {
    const revocations = this.revocations.view;
    return keys
      ? new TokenVerifier({ issuer: this.config.AUTH_ISSUER, keys, revocations })
      : TokenVerifier.remote(this.config.AUTH_JWKS_URL, this.config.AUTH_ISSUER, revocations);
  }

  nestOptions(): NestApplicationOptions {
    return { bodyParser: false, logger: new NestPinoLogger(this.logger), abortOnError: false };
  }

  /**
   * Sets up HTTP (problem+json, validation, OpenAPI) and gRPC on `app`, lets `beforeListen`
   * prepare data the first request needs, then listens and starts the outbox relay.
   */
  async serve(app: INestApplication, options: ServeOptions, beforeListen?: () => Promise<void>): Promise<void> {
    this.onClose(() => app.close());
    const { host, httpPort, grpcPort: configuredGrpcPort, grpc, ...http } = options;
    setupHttp(app, { ...http, logger: this.logger, metrics: this.metrics });
    const grpcPort = await resolveGrpcPort(host, configuredGrpcPort);
    app.connectMicroservice(grpcServerOptions({ url: `${host}:${grpcPort}`, ...grpc }), { inheritAppConfig: true });
    await app.init();
    if (beforeListen) await beforeListen();
    // No request is served before the revocations announced within the window are known.
    await this.revocations.ready();
    await app.startAllMicroservices();
    await app.listen(httpPort, host);
    this.relay.start();
    this.onClose(() => this.relay.stop());
    const address = (app.getHttpServer() as { address(): AddressInfo }).address();
    const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
    this.httpUrl = `http://${shownHost}:${address.port}`;
    this.grpcUrl = `${shownHost}:${grpcPort}`;
  }

  /**
   * Starts an idempotent consumer of `topics` (full names are built here: KAFKA_TOPIC_PREFIX +
   * topic) in the background, retrying while Kafka is away; each event is handled in a
   * transaction of this service's database. Stop it with the returned function (a Nest
   * adapter's onApplicationShutdown).
   */
  consume(options: {
    group: string;
    topics: string[];
    handle: IdempotentConsumerOptions['handle'];
    handleMany?: IdempotentConsumerOptions['handleMany'];
    what: string;
  }): () => Promise<void> {
    const { config } = this;
    let consumer: IdempotentConsumer | undefined;
    let stopped = false;
    void startWithRetry(
      async () => {
        const started = new IdempotentConsumer(
          this.kafka,
          this.dataSource,
          createIdempotentProducer(this.kafka),
          this.topics,
          this.logger,
          {
            groupId: config.KAFKA_TOPIC_PREFIX + options.group,
            topics: options.topics.map((t) => config.KAFKA_TOPIC_PREFIX + t),
            handle: options.handle,
            handleMany: options.handleMany,
            onOutcome: (topic, outcome) => this.metrics.kafkaMessages.inc({ topic, outcome }),
          },
        );
        try {
          await started.start();
        } catch (err) {
          await started.stop().catch(() => undefined);
          throw err;
        }
        consumer = started;
        if (stopped) await started.stop();
      },
      () => stopped,
      this.logger,
      options.what,
    );
    return async () => {
      stopped = true;
      await consumer?.stop();
    };
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    this.closers.length = 0;
    this.logger.flush();
  }

  private async connect(): Promise<void> {
    const { config, service } = this;
    this.dataSource = await openServiceDatabase(service, config.DATABASE_URL, config.DATABASE_POOL_SIZE);
    this.onClose(() => this.dataSource.destroy());
    const applied = await migrate(this.dataSource, service.schema);
    if (applied.length > 0) this.logger.info({ migrations: applied }, 'migrations applied');
    this.health.register({ name: 'postgres', check: async () => void (await this.dataSource.query('SELECT 1')) });

    this.redis = await createRedis(config.REDIS_URL, `${config.REDIS_KEY_PREFIX}${service.name}:`, { logger: this.logger });
    this.onClose(() => this.redis.disconnect());
    this.health.register(redisHealth(this.redis));

    const topicSettings = { partitions: config.KAFKA_TOPIC_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR };
    const kafkaSettings = {
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID ?? `iip-${service.name}`,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      ...topicSettings,
    };
    this.kafka = createKafka(kafkaSettings, this.logger);
    this.admin = this.kafka.admin();
    this.onClose(() => this.admin.disconnect());
    this.health.register(kafkaHealth(this.admin));
    // Provisioning and the wait for a fresh broker go through a client whose expected start-up
    // failures log at debug; consumers and the relay provision first, so they wait there.
    const controlPlane = createControlPlaneKafka(kafkaSettings, this.logger);
    const controlAdmin = controlPlane.admin();
    this.onClose(() => controlAdmin.disconnect());
    this.topics = new TopicProvisioner(controlAdmin, topicSettings, new KafkaReadiness(controlPlane));
    this.relay = new OutboxRelay(this.dataSource, createIdempotentProducer(this.kafka), this.topics, this.logger, {
      schema: service.schema,
      pollIntervalMs: config.OUTBOX_POLL_MS,
      retentionHours: config.OUTBOX_RETENTION_HOURS,
      onPublished: (topic, count) => this.metrics.kafkaMessages.inc({ topic, outcome: 'published' }, count),
    });
    this.outboxWriter = new OutboxWriter(config.KAFKA_TOPIC_PREFIX, () => this.relay.wake());
    this.revocations = new RevocationFeed(this.kafka, this.admin, this.topics, this.logger, {
      serviceName: service.name,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      windowSec: config.AUTH_REVOCATION_WINDOW_S,
    });
    // Started now, so it reads while the app is built; serve() waits for it before listening.
    this.revocations.start();
    this.onClose(() => this.revocations.stop());
    this.health.register(this.revocations.health());
  }
}
