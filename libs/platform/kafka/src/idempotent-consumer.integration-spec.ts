import { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { DomainError } from '@iip/platform-errors';
import { createServiceDataSource, ensureDatabase } from '@iip/platform-database';
import { TestEnvironment, TopicProbe, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { createEnvelope } from './envelope';
import { IdempotentConsumer } from './idempotent-consumer';
import { TopicProvisioner, createIdempotentProducer, createKafka } from './kafka-client';
import { messagingTablesSql } from './outbox';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

class PermanentFailure extends DomainError<'BROKEN'> {
  httpStatus() {
    return 422;
  }
  grpcStatus() {
    return GrpcStatus.FAILED_PRECONDITION;
  }
  kafkaDisposition() {
    return 'dead-letter' as const;
  }
}

describe('IdempotentConsumer against real Kafka and PostgreSQL', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;
  let kafka: Kafka;
  let provisioner: TopicProvisioner;
  let admin: Admin;
  const consumers: IdempotentConsumer[] = [];
  const probes: TopicProbe[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment('consumer');
    await ensureDatabase(env.databaseUrl);
    dataSource = createServiceDataSource({ url: env.databaseUrl, schema: 'probe', entities: [], migrations: [] });
    await dataSource.initialize();
    await dataSource.query('CREATE SCHEMA probe');
    for (const sql of messagingTablesSql('probe')) await dataSource.query(sql);
    await dataSource.query(
      'CREATE TABLE probe.applied (event_id text PRIMARY KEY, subject text NOT NULL, applied_at timestamptz DEFAULT clock_timestamp())',
    );
    kafka = createKafka(
      { brokers: [env.kafkaBrokers], clientId: 'consumer-spec', topicPrefix: env.topicPrefix, partitions: 1, replicationFactor: 1 },
      silent,
    );
    admin = kafka.admin();
    provisioner = new TopicProvisioner(admin, { partitions: 1, replicationFactor: 1 });
  });

  afterAll(async () => {
    for (const c of consumers) await c.stop();
    for (const p of probes) await p.stop();
    await admin?.disconnect();
    await dataSource?.destroy();
    await env?.cleanup();
  });

  async function publish(topic: string, values: (string | object)[]) {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((v) => ({ key: 'same-aggregate', value: typeof v === 'string' ? v : JSON.stringify(v) })),
    });
    await producer.disconnect();
  }

  function startConsumer(topic: string, handle: ConstructorParameters<typeof IdempotentConsumer>[5]['handle'], maxAttempts = 3) {
    const consumer = new IdempotentConsumer(kafka, dataSource, createIdempotentProducer(kafka), provisioner, silent, {
      groupId: `${env.topicPrefix}group-${topic}`,
      topics: [topic],
      handle,
      maxAttempts,
      initialBackoffMs: 50,
      maxBackoffMs: 200,
    });
    consumers.push(consumer);
    return consumer.start();
  }

  const event = (subject: string) => createEnvelope({ type: 'Probe', source: 'spec', tenantId: 't', subject, data: { subject } });

  it('dead-letters a poison message after bounded retries while the messages behind it are processed', async () => {
    const topic = `${env.topicPrefix}poison`;
    await provisioner.ensure([topic, `${topic}.dlq`]);
    const first = event('first');
    const poison = event('poison');
    const last = event('last');
    const attemptsOnPoison: number[] = [];
    await startConsumer(topic, async (e, ctx) => {
      if (e.subject === 'poison') {
        attemptsOnPoison.push(ctx.attempt);
        throw new Error('downstream refused the poison event');
      }
      await ctx.manager.query('INSERT INTO applied (event_id, subject) VALUES ($1, $2)', [e.id, e.subject]);
    });
    const dlq = new TopicProbe(env.kafkaBrokers, [`${topic}.dlq`]);
    probes.push(dlq);
    await dlq.start();
    await publish(topic, [first, poison, last]);

    const applied = await waitFor(
      async () => {
        const rows: { subject: string }[] = await dataSource.query('SELECT subject FROM applied ORDER BY applied_at');
        return rows.length === 2 ? rows.map((r) => r.subject) : undefined;
      },
      30_000,
      'both healthy events to be applied',
    );
    expect(applied).toEqual(['first', 'last']);
    expect(attemptsOnPoison).toEqual([1, 2, 3]);

    const dead = await waitFor(async () => (dlq.messages.length > 0 ? dlq.messages : undefined), 15_000, 'the DLQ message');
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0].value!).id).toBe(poison.id);
    expect(dead[0].headers).toMatchObject({
      'x-dlq-error': 'downstream refused the poison event',
      'x-dlq-attempts': '3',
      'x-dlq-original-topic': topic,
    });
  });

  it('dead-letters malformed messages and permanent domain errors at once, without retrying', async () => {
    const topic = `${env.topicPrefix}malformed`;
    await provisioner.ensure([topic, `${topic}.dlq`]);
    let calls = 0;
    await startConsumer(
      topic,
      async (e, ctx) => {
        calls++;
        if (e.subject === 'permanent') throw new PermanentFailure('BROKEN', 'cannot ever apply this');
        await ctx.manager.query('INSERT INTO applied (event_id, subject) VALUES ($1, $2)', [e.id, e.subject]);
      },
      5,
    );
    const dlq = new TopicProbe(env.kafkaBrokers, [`${topic}.dlq`]);
    probes.push(dlq);
    await dlq.start();
    const ok = event('after-garbage');
    await publish(topic, ['{not json', { hello: 'not an envelope' }, event('permanent'), ok]);

    await waitFor(
      async () => {
        const rows: unknown[] = await dataSource.query('SELECT 1 FROM applied WHERE event_id = $1', [ok.id]);
        return rows.length === 1 ? true : undefined;
      },
      30_000,
      'the event after the garbage',
    );
    const dead = await waitFor(async () => (dlq.messages.length >= 3 ? dlq.messages : undefined), 15_000, 'three DLQ messages');
    expect(dead.map((m) => m.headers['x-dlq-error-code'])).toEqual(['MalformedEnvelopeError', 'MalformedEnvelopeError', 'BROKEN']);
    expect(dead.every((m) => m.headers['x-dlq-attempts'] === '1')).toBe(true);
    expect(calls).toBe(2); // the permanent one once, the good one once
  });

  it('applies a redelivered event once', async () => {
    const topic = `${env.topicPrefix}dupes`;
    await provisioner.ensure([topic, `${topic}.dlq`]);
    await startConsumer(topic, async (e, ctx) => {
      await ctx.manager.query('INSERT INTO applied (event_id, subject) VALUES ($1, $2)', [e.id, e.subject]);
    });
    const e = event('dupe');
    await publish(topic, [e, e, e]);
    const marker = event('marker');
    await publish(topic, [marker]);
    await waitFor(
      async () => {
        const rows: unknown[] = await dataSource.query('SELECT 1 FROM applied WHERE event_id = $1', [marker.id]);
        return rows.length === 1 ? true : undefined;
      },
      30_000,
      'the marker event',
    );
    const rows: unknown[] = await dataSource.query('SELECT 1 FROM applied WHERE event_id = $1', [e.id]);
    expect(rows).toHaveLength(1);
  });
});
