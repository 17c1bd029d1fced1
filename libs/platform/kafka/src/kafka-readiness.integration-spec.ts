import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Admin } from 'kafkajs';
import { DataSource } from 'typeorm';
import { createServiceDataSource, ensureDatabase } from '@iip/platform-database';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { createEnvelope } from './envelope';
import { IdempotentConsumer } from './idempotent-consumer';
import {
  KafkaReadiness,
  KafkaSettings,
  TopicProvisioner,
  createControlPlaneKafka,
  createIdempotentProducer,
  createKafka,
} from './kafka-client';
import { OutboxRelay, OutboxWriter, messagingTablesSql } from './outbox';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const broker = require(join(__dirname, '../../../../tools/kafka/broker.cjs')) as typeof import('../../../../tools/kafka/broker.cjs');

/**
 * A first start against a brand-new broker, as `npm start` does it: two instances provision the
 * same topics at once, a consumer group and idempotent producers are the broker's first. The
 * expected start-up failures (no group coordinator yet, producer ids loading, topic races, no
 * leader yet) must not reach the log as warnings or errors. The broker is this test's own.
 */
describe('a healthy first start on a fresh broker logs no warnings or errors', () => {
  const port = 19_800 + Math.floor(Math.random() * 100) * 2;
  const dataDir = join(__dirname, `../../../../.cache/kafka/readiness-${randomBytes(4).toString('hex')}`);
  const lines: { level: string; msg: string; fields: object }[] = [];
  const at = (level: string) => (fields: object, msg: string) => void lines.push({ level, msg, fields });
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  let env: TestEnvironment;
  let dataSource: DataSource;
  const admins: Admin[] = [];
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await broker.startKafka({ port, dataDir });
    env = await createTestEnvironment('readiness');
    await ensureDatabase(env.databaseUrl);
    dataSource = createServiceDataSource({ url: env.databaseUrl, schema: 'probe', entities: [], migrations: [] });
    await dataSource.initialize();
    await dataSource.query('CREATE SCHEMA probe');
    for (const sql of messagingTablesSql('probe')) await dataSource.query(sql);
    await dataSource.query('CREATE TABLE probe.applied (event_id text PRIMARY KEY)');
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    for (const admin of admins) await admin.disconnect().catch(() => undefined);
    await dataSource?.destroy();
    await env?.cleanup().catch(() => undefined);
    await broker.stopKafka({ port, dataDir });
    const { rm } = await import('node:fs/promises');
    await rm(dataDir, { recursive: true, force: true });
  });

  /** What ServiceRuntime wires for one instance. */
  function instance(clientId: string, brokers = [`127.0.0.1:${port}`]) {
    const settings: KafkaSettings = { brokers, clientId, topicPrefix: '', partitions: 2, replicationFactor: 1 };
    const kafka = createKafka(settings, logger);
    const controlPlane = createControlPlaneKafka(settings, logger);
    const admin = controlPlane.admin();
    admins.push(admin);
    return { kafka, topics: new TopicProvisioner(admin, settings, new KafkaReadiness(controlPlane)) };
  }

  it('publishes through the outbox and consumes the event, quietly', async () => {
    const topic = 'iip.readiness.events';
    const producing = instance('producing-service');
    const consuming = instance('consuming-service');

    const relay = new OutboxRelay(dataSource, createIdempotentProducer(producing.kafka), producing.topics, logger, {
      schema: 'probe',
      pollIntervalMs: 50,
    });
    stops.push(() => relay.stop());
    const consumer = new IdempotentConsumer(
      consuming.kafka,
      dataSource,
      createIdempotentProducer(consuming.kafka),
      consuming.topics,
      logger,
      {
        groupId: 'iip.readiness.group',
        topics: [topic],
        handle: async (event, ctx) => void (await ctx.manager.query('INSERT INTO applied (event_id) VALUES ($1)', [event.id])),
      },
    );
    stops.push(() => consumer.stop());

    const event = createEnvelope({ type: 'Probe', source: 'spec', tenantId: 't', subject: 's', data: {} });
    await dataSource.transaction((manager) => new OutboxWriter('', () => relay.wake()).append(manager, topic, [event]));
    // Both race for the same topic on a broker that has never had a group or a producer.
    relay.start();
    await consumer.start();

    await waitFor(
      async () =>
        (await dataSource.query<unknown[]>('SELECT 1 FROM applied WHERE event_id = $1', [event.id])).length === 1 ? true : undefined,
      60_000,
      'the event to be consumed',
    );
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    // Stopped here, not in afterAll: a relay still polling would publish the next test's event.
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('a relay waiting for an unreachable broker stops at once, and says nothing about it', async () => {
    await dataSource.query('DELETE FROM outbox');
    const nowhere = instance('stopping-service', ['127.0.0.1:1']);
    const relay = new OutboxRelay(dataSource, createIdempotentProducer(nowhere.kafka), nowhere.topics, logger, { schema: 'probe' });
    const event = createEnvelope({ type: 'Probe', source: 'spec', tenantId: 't', subject: 's', data: {} });
    await dataSource.transaction((manager) => new OutboxWriter('', () => relay.wake()).append(manager, 'iip.readiness.nowhere', [event]));
    lines.length = 0;
    relay.start();
    await new Promise((r) => setTimeout(r, 1_000));
    const started = Date.now();
    await relay.stop();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    const [{ n }] = await dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    expect(n).toBe(1);
  });
});
