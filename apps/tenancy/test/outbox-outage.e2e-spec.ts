import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Topics } from '@iip/contracts';
import { createServiceDataSource } from '@iip/platform-database';
import { IdempotentConsumer, TopicProvisioner, createIdempotentProducer, createKafka, messagingTablesSql } from '@iip/platform-kafka';
import { TestEnvironment, TopicProbe, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { RunningTenancy } from '../src/tenancy-app';
import { makeCreditCode, operatorToken, startTestTenancy } from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const broker = require(join(__dirname, '../../../tools/kafka/broker.cjs')) as typeof import('../../../tools/kafka/broker.cjs');

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Kafka stops, a tenant is onboarded (the write succeeds), Kafka comes back: the outbox
 * delivers the TenantOnboarded event and a consumer applies it exactly once. The broker here
 * is this test's own, so stopping it disturbs no other test.
 */
describe('tenancy keeps writing while Kafka is down and loses nothing', () => {
  const port = 19_300 + Math.floor(Math.random() * 500) * 2;
  const dataDir = join(__dirname, `../../../.cache/kafka/outage-${randomBytes(4).toString('hex')}`);
  const brokers = `127.0.0.1:${port}`;
  let env: TestEnvironment;
  let app: RunningTenancy;
  let observerDb: DataSource;
  let consumer: IdempotentConsumer | undefined;
  let probe: TopicProbe | undefined;
  let observerAdmin: Admin | undefined;

  beforeAll(async () => {
    await broker.startKafka({ port, dataDir });
    env = await createTestEnvironment('outage');
    app = await startTestTenancy(env, { KAFKA_BROKERS: brokers });
  });

  afterAll(async () => {
    await consumer?.stop();
    await observerAdmin?.disconnect();
    await probe?.stop();
    await observerDb?.destroy();
    await app?.close();
    await env?.cleanup().catch(() => undefined);
    await broker.stopKafka({ port, dataDir });
    const { rm } = await import('node:fs/promises');
    await rm(dataDir, { recursive: true, force: true });
  });

  const unpublished = async (): Promise<number> => {
    const [{ n }]: { n: number }[] = await app.dataSource.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    return n;
  };

  it('onboards during the outage and delivers exactly one TenantOnboarded afterwards', async () => {
    // The platform tenant's own event goes out while the broker is up.
    await waitFor(async () => ((await unpublished()) === 0 ? true : undefined), 30_000, 'the outbox to drain');

    await broker.stopKafka({ port, dataDir });
    const op = await operatorToken(app);
    const creditCode = makeCreditCode();
    const res = await request(app.httpUrl)
      .post('/v1/tenants')
      .auth(op, { type: 'bearer' })
      .send({ kind: 'group', name: 'Written during outage', creditCode });
    expect(res.status).toBe(201);
    const tenantId: string = res.body.id;
    // The event waits in the outbox, in the same database as the tenant.
    const rows: { message_key: string; published_at: Date | null }[] = await app.dataSource.query(
      `SELECT message_key, published_at FROM outbox WHERE envelope->>'type' = 'TenantOnboarded' AND message_key = $1`,
      [tenantId],
    );
    expect(rows).toEqual([{ message_key: tenantId, published_at: null }]);
    const ready = await request(app.httpUrl).get('/health/ready');
    expect(ready.body.checks.kafka.status).toBe('down');

    await broker.startKafka({ port, dataDir });
    await waitFor(async () => ((await unpublished()) === 0 ? true : undefined), 60_000, 'the outbox to drain after the outage');

    // A downstream service consumes the topic and applies each event once.
    observerDb = createServiceDataSource({ url: env.databaseUrl, schema: 'observer', entities: [], migrations: [] });
    await observerDb.initialize();
    await observerDb.query('CREATE SCHEMA observer');
    for (const sql of messagingTablesSql('observer')) await observerDb.query(sql);
    await observerDb.query('CREATE TABLE observer.onboarded (tenant_id uuid NOT NULL, event_id text NOT NULL)');
    const kafka = createKafka(
      { brokers: [brokers], clientId: 'observer', topicPrefix: env.topicPrefix, partitions: 2, replicationFactor: 1 },
      silent,
    );
    const topic = env.topicPrefix + Topics.tenancyTenant;
    consumer = new IdempotentConsumer(
      kafka,
      observerDb,
      createIdempotentProducer(kafka),
      new TopicProvisioner((observerAdmin = kafka.admin()), { partitions: 2, replicationFactor: 1 }),
      silent,
      {
        groupId: `${env.topicPrefix}observer`,
        topics: [topic],
        handle: async (event, ctx) => {
          if (event.type === 'TenantOnboarded')
            await ctx.manager.query('INSERT INTO onboarded (tenant_id, event_id) VALUES ($1, $2)', [event.subject, event.id]);
        },
      },
    );
    await consumer.start();
    probe = new TopicProbe(brokers, [topic]);
    await probe.start();

    const applied = await waitFor(
      async () => {
        const r: { tenant_id: string }[] = await observerDb.query('SELECT tenant_id FROM onboarded WHERE tenant_id = $1', [tenantId]);
        return r.length > 0 ? r : undefined;
      },
      30_000,
      'the consumer to apply TenantOnboarded',
    );
    const onTopic = await waitFor(
      async () => {
        const forTenant = probe!.messages.filter((m) => m.key === tenantId);
        return forTenant.length > 0 ? forTenant : undefined;
      },
      30_000,
      'the event on the topic',
    );
    // Give any duplicate time to show up before counting.
    await new Promise((r) => setTimeout(r, 1500));
    expect(applied).toHaveLength(1);
    expect((await observerDb.query('SELECT 1 FROM onboarded WHERE tenant_id = $1', [tenantId])).length).toBe(1);
    expect(probe.messages.filter((m) => m.key === tenantId)).toHaveLength(onTopic.length);
    expect(onTopic).toHaveLength(1);
    expect(JSON.parse(onTopic[0].value!)).toMatchObject({
      type: 'TenantOnboarded',
      subject: tenantId,
      data: { creditCode, kind: 'group' },
    });
  });
});
