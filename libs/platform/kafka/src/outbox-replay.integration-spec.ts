import { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { createServiceDataSource, ensureDatabase } from '@iip/platform-database';
import { TestEnvironment, TopicProbe, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { EventEnvelope, createEnvelope } from './envelope';
import { KafkaReadiness, TopicProvisioner, createControlPlaneKafka, createIdempotentProducer, createKafka } from './kafka-client';
import { OutboxRelay, OutboxWriter, messagingTablesSql } from './outbox';
import { OutboxReplayInputError, replayOutbox } from './outbox-replay';
import { runOutboxReplay } from './outbox-replay-cli';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('replaying the outbox against real PostgreSQL and Kafka', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;
  let kafka: Kafka;
  let controlAdmin: Admin;
  let provisioner: TopicProvisioner;
  let writer: OutboxWriter;
  const relays: OutboxRelay[] = [];
  const probes: TopicProbe[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment('replay');
    await ensureDatabase(env.databaseUrl);
    dataSource = createServiceDataSource({ url: env.databaseUrl, schema: 'probe', entities: [], migrations: [] });
    await dataSource.initialize();
    await dataSource.query('CREATE SCHEMA probe');
    for (const sql of messagingTablesSql('probe')) await dataSource.query(sql);
    const settings = {
      brokers: [env.kafkaBrokers],
      clientId: 'replay-spec',
      topicPrefix: env.topicPrefix,
      partitions: 1,
      replicationFactor: 1,
    };
    kafka = createKafka(settings, silent);
    const controlPlane = createControlPlaneKafka(settings, silent);
    controlAdmin = controlPlane.admin();
    provisioner = new TopicProvisioner(controlAdmin, settings, new KafkaReadiness(controlPlane));
    const relay = startRelay();
    writer = new OutboxWriter(env.topicPrefix, () => relay.wake());
  });

  afterAll(async () => {
    for (const r of relays) await r.stop();
    for (const p of probes) await p.stop();
    await controlAdmin?.disconnect();
    await dataSource?.destroy();
    await env?.cleanup();
  });

  function startRelay(retentionHours = 168): OutboxRelay {
    const relay = new OutboxRelay(dataSource, createIdempotentProducer(kafka), provisioner, silent, {
      schema: 'probe',
      pollIntervalMs: 50,
      retentionHours,
    });
    relays.push(relay);
    relay.start();
    return relay;
  }

  async function observe(topic: string): Promise<TopicProbe> {
    await provisioner.ensure([topic]);
    const probe = new TopicProbe(env.kafkaBrokers, [topic]);
    probes.push(probe);
    await probe.start();
    return probe;
  }

  const event = (subject: string) => createEnvelope({ type: 'Probe', source: 'spec', tenantId: 't', subject, data: { subject } });

  async function append(topic: string, events: EventEnvelope[]): Promise<void> {
    await dataSource.transaction((manager) => writer.append(manager, topic, events));
  }

  const unpublished = async () =>
    (await dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL'))[0].n;
  const drained = () => waitFor(async () => ((await unpublished()) === 0 ? true : undefined), 20_000, 'the outbox to drain');
  const eventIds = (probe: TopicProbe) => probe.messages.map((m) => m.headers['event-id']);

  it('sends the events of the window again, in their original order, and no others', async () => {
    const topic = 'orders';
    const probe = await observe(env.topicPrefix + topic);
    const [old, first, second, third] = ['old', 'first', 'second', 'third'].map(event);
    await append(topic, [old, first, second]);
    await append(topic, [third]);
    await drained();
    await waitFor(async () => (probe.messages.length === 4 ? true : undefined), 20_000, 'the four events on the topic');
    // `old` happened before the window.
    await dataSource.query(`UPDATE outbox SET created_at = now() - interval '2 hours' WHERE event_id = $1`, [old.id]);

    const since = new Date(Date.now() - 60 * 60_000);
    const result = await replayOutbox(dataSource, 'probe', { since });
    expect(result).toMatchObject({ events: 3, byTopic: [{ topic: env.topicPrefix + topic, events: 3 }], alreadyPending: 0 });
    expect(result.oldestRetained!.getTime()).toBeLessThan(since.getTime());

    await waitFor(async () => (probe.messages.length >= 7 ? true : undefined), 20_000, 'the replayed events on the topic');
    await drained();
    expect(eventIds(probe)).toEqual([old, first, second, third, first, second, third].map((e) => e.id));
    // The same envelope, byte for byte, as the first time.
    expect(probe.messages[4].value).toBe(probe.messages[1].value);
  });

  it('publishes a bulk append (one outbox row) as one message per event, in order and keyed by subject, and replays it whole', async () => {
    const topic = 'bulk';
    const probe = await observe(env.topicPrefix + topic);
    const before = event('before');
    const bulk = Array.from({ length: 1_200 }, (_, i) => event(`item-${i % 7}`));
    const after = event('after');
    await append(topic, [before]);
    await append(topic, bulk);
    await append(topic, [after]);
    const [{ rows, events }] = await dataSource.query<{ rows: number; events: number }[]>(
      `SELECT count(*)::int AS rows, sum(events)::int AS events FROM outbox WHERE topic = $1`,
      [env.topicPrefix + topic],
    );
    expect({ rows, events }).toEqual({ rows: 3, events: 1_202 });
    await drained();
    const sent = [before, ...bulk, after];
    await waitFor(async () => (probe.messages.length === sent.length ? true : undefined), 20_000, 'every event of the bulk row');
    expect(eventIds(probe)).toEqual(sent.map((e) => e.id));
    expect(probe.messages.map((m) => m.key)).toEqual(sent.map((e) => e.subject));
    expect(JSON.parse(probe.messages[500].value ?? '')).toEqual(bulk[499]);
    expect(probe.messages[500].headers['event-type']).toBe('Probe');

    const since = new Date(Date.now() - 60_000);
    const replayed = await replayOutbox(dataSource, 'probe', { since }, { dryRun: true });
    expect(replayed.byTopic.find((t) => t.topic === env.topicPrefix + topic)?.events).toBe(1_202);
  });

  it('honours --until, changes nothing on a dry run, and refuses a schema without an outbox', async () => {
    const topic = 'windows';
    const probe = await observe(env.topicPrefix + topic);
    const [early, late] = ['early', 'late'].map(event);
    await append(topic, [early, late]);
    await drained();
    await dataSource.query(`UPDATE outbox SET created_at = now() - interval '30 minutes' WHERE event_id = $1`, [early.id]);
    const since = new Date(Date.now() - 45 * 60_000);
    const until = new Date(Date.now() - 15 * 60_000);

    const dry = await replayOutbox(dataSource, 'probe', { since, until }, { dryRun: true });
    expect(dry).toMatchObject({ events: 1, byTopic: [{ topic: env.topicPrefix + topic, events: 1 }] });
    expect(await unpublished()).toBe(0);

    const done = await replayOutbox(dataSource, 'probe', { since, until });
    expect(done.events).toBe(1);
    await waitFor(async () => (probe.messages.length >= 3 ? true : undefined), 20_000, 'the replayed event');
    await drained();
    expect(eventIds(probe)).toEqual([early.id, late.id, early.id]);

    await expect(replayOutbox(dataSource, 'nosuch', { since })).rejects.toThrow(OutboxReplayInputError);
    await expect(replayOutbox(dataSource, 'probe"; DROP TABLE outbox; --', { since })).rejects.toThrow('not a service schema name');
  });

  it('keeps published events for the retention period and prunes older ones', async () => {
    const [expired, kept] = ['expired', 'kept'].map(event);
    await append('retention', [expired, kept]);
    await drained();
    await dataSource.query(`UPDATE outbox SET published_at = now() - interval '200 hours' WHERE event_id = $1`, [expired.id]);
    await dataSource.query(`UPDATE outbox SET published_at = now() - interval '100 hours' WHERE event_id = $1`, [kept.id]);
    // A relay prunes on its first pass, then every minute.
    startRelay(168);
    const remaining = await waitFor(
      async () => {
        const rows = await dataSource.query<{ event_id: string }[]>('SELECT event_id FROM outbox WHERE event_id = ANY($1::uuid[])', [
          [expired.id, kept.id],
        ]);
        return rows.length === 1 ? rows.map((r) => r.event_id) : undefined;
      },
      15_000,
      'the expired event to be pruned',
    );
    expect(remaining).toEqual([kept.id]);
  });

  it('npm run outbox:replay: counts, dry-runs, and refuses an unknown service with exit 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      `SELECT coalesce(sum(events), 0)::int AS n FROM outbox WHERE published_at IS NOT NULL AND created_at >= $1`,
      [since],
    );
    expect(n).toBeGreaterThan(0);

    expect(await runOutboxReplay(['--service', 'probe', '--since', since, '--dry-run'], { DATABASE_URL: env.databaseUrl }, io)).toBe(0);
    expect(out[0]).toContain(`probe: ${n} published events created since ${since} would be replayed (dry run: nothing changed)`);
    expect(await unpublished()).toBe(0);

    expect(await runOutboxReplay(['--service', 'tenancy', '--since', since], { DATABASE_URL: env.databaseUrl }, io)).toBe(2);
    expect(err.join('\n')).toContain('unknown service "tenancy": this database has an outbox for probe');

    out.length = 0;
    expect(await runOutboxReplay(['--service', 'probe', '--since', since], { DATABASE_URL: env.databaseUrl }, io)).toBe(0);
    expect(out[0]).toContain(`probe: ${n} published events created since ${since} will be replayed`);
    expect(out.join('\n')).toContain('Consumers apply each event id once');
    await drained();
  });

  it('npm run outbox:replay: exits 1 saying so when the database cannot be reached', async () => {
    const err: string[] = [];
    const code = await runOutboxReplay(
      ['--service', 'probe', '--since', '2026-01-01T00:00:00Z'],
      { DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' },
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('cannot connect to postgres://nobody:***@127.0.0.1:1/none');
    expect(err.join('\n')).not.toContain('secret');
  });
});
