import { Admin, Kafka, logLevel } from 'kafkajs';
import { KafkaReadiness, TopicProvisioner, createControlPlaneKafka, createKafka, describeKafkaError, kafkaLogLevel } from './kafka-client';

type Line = { level: string; fields: object; msg: string };

function capturingLogger() {
  const lines: Line[] = [];
  const at = (level: string) => (fields: object, msg: string) => void lines.push({ level, fields, msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const settings = { brokers: ['127.0.0.1:1'], clientId: 'spec', topicPrefix: '', partitions: 3, replicationFactor: 1 };
const LIMITING_RETRIES = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

describe('kafka log levels', () => {
  it('demotes only the bounded-retries notice of the idempotent producer', () => {
    expect(kafkaLogLevel({ namespace: 'Producer', level: logLevel.WARN, log: { message: LIMITING_RETRIES } })).toBe(logLevel.DEBUG);
    // Same text elsewhere, or another producer warning: kept.
    expect(kafkaLogLevel({ namespace: 'Consumer', level: logLevel.WARN, log: { message: LIMITING_RETRIES } })).toBe(logLevel.WARN);
    expect(kafkaLogLevel({ namespace: 'Producer', level: logLevel.WARN, log: { message: 'Failed to send messages' } })).toBe(logLevel.WARN);
    expect(
      kafkaLogLevel({ namespace: 'Connection', level: logLevel.ERROR, log: { message: 'Response Produce(key: 0, version: 7)' } }),
    ).toBe(logLevel.ERROR);
  });

  it('the service client logs real problems at their level and the notice at debug', () => {
    const { lines, logger } = capturingLogger();
    const root = createKafka(settings, logger).logger();
    root.namespace('Producer').warn(LIMITING_RETRIES);
    root.namespace('Connection').error('Response Produce(key: 0, version: 7)', { error: 'Topic authorization failed' });
    root.namespace('Consumer').warn('Rebalancing');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['debug', LIMITING_RETRIES],
      ['error', 'Response Produce(key: 0, version: 7)'],
      ['warn', 'Rebalancing'],
    ]);
    expect(lines[1].fields).toMatchObject({ kafka: 'Connection', error: 'Topic authorization failed' });
  });

  it('the control-plane client logs everything at debug (its callers report what they cannot recover from)', () => {
    const { lines, logger } = capturingLogger();
    createControlPlaneKafka(settings, logger).logger().namespace('Connection').error('Response GroupCoordinator(key: 10, version: 2)', {
      error: 'The group coordinator is not available',
    });
    expect(lines).toEqual([
      {
        level: 'debug',
        msg: 'Response GroupCoordinator(key: 10, version: 2)',
        fields: { kafka: 'Connection', error: 'The group coordinator is not available' },
      },
    ]);
  });

  it('describeKafkaError names each topic of an aggregate error', () => {
    const aggregate = Object.assign(new Error('Topic creation errors'), {
      errors: [
        { topic: 'a', message: 'Replication-factor is invalid.' },
        { topic: 'b', message: 'Topic already exists.' },
      ],
    });
    expect(describeKafkaError(aggregate)).toBe('Topic creation errors: a: Replication-factor is invalid.; b: Topic already exists.');
    expect(describeKafkaError(new Error('Connection timeout'))).toBe('Connection timeout');
  });
});

/** An admin whose answers a test scripts; only what TopicProvisioner and KafkaReadiness call. */
function fakeAdmin(script: Partial<Record<keyof Admin, (...args: never[]) => unknown>>) {
  const calls: { name: string; args: unknown[] }[] = [];
  const admin = new Proxy(
    {},
    {
      get:
        (_t, name: string) =>
        (...args: unknown[]) => {
          calls.push({ name, args });
          const fn = script[name as keyof Admin] as ((...a: unknown[]) => unknown) | undefined;
          return new Promise((resolve) => resolve(fn ? fn(...args) : undefined));
        },
    },
  ) as Admin;
  return { admin, calls };
}

const served = (topics: string[]) => ({ topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 1 }] })) });

describe('TopicProvisioner', () => {
  it('creates missing topics with explicit partitions (.dlq: 1), waits until they are served and asks once', async () => {
    const { admin, calls } = fakeAdmin({
      listTopics: () => ['exists'],
      createTopics: () => true,
      fetchTopicMetadata: ({ topics }: { topics: string[] }) => served(topics),
      fetchTopicOffsets: () => [{ partition: 0, offset: '0', high: '0', low: '0' }],
    });
    const provisioner = new TopicProvisioner(admin, { partitions: 3, replicationFactor: 1 });
    await provisioner.ensure(['exists', 'new', 'new.dlq']);
    await provisioner.ensure(['new', 'exists']);

    const created = calls.filter((c) => c.name === 'createTopics').map((c) => c.args[0]);
    expect(created).toEqual([
      {
        waitForLeaders: false,
        topics: [
          { topic: 'new', numPartitions: 3, replicationFactor: 1 },
          { topic: 'new.dlq', numPartitions: 1, replicationFactor: 1 },
        ],
      },
    ]);
    // Existing topics are waited for too: another instance may have created them a moment ago.
    expect(calls.filter((c) => c.name === 'fetchTopicOffsets').map((c) => c.args[0])).toEqual(['exists', 'new', 'new.dlq']);
    expect(calls.filter((c) => c.name === 'listTopics')).toHaveLength(1);
  });

  it('waits while a new topic has no leader, then goes on', async () => {
    let metadataCalls = 0;
    const { admin } = fakeAdmin({
      listTopics: () => [],
      createTopics: () => true,
      fetchTopicMetadata: () =>
        ++metadataCalls < 3 ? { topics: [{ name: 't', partitions: [{ partitionId: 0, leader: -1 }] }] } : served(['t']),
      fetchTopicOffsets: () => [],
    });
    await new TopicProvisioner(admin, { partitions: 1, replicationFactor: 1 }).ensure(['t']);
    expect(metadataCalls).toBe(3);
  });

  it('fails with the reason when a topic is never served, and tries again next time', async () => {
    const { admin, calls } = fakeAdmin({
      listTopics: () => [],
      createTopics: () => true,
      fetchTopicMetadata: () => ({ topics: [{ name: 't', partitions: [{ partitionId: 0, leader: -1 }] }] }),
    });
    const provisioner = new TopicProvisioner(admin, { partitions: 1, replicationFactor: 1 }, undefined, 300);
    await expect(provisioner.ensure(['t'])).rejects.toThrow('topics not ready after 300 ms: no leader yet for t');
    await expect(provisioner.ensure(['t'])).rejects.toThrow('no leader yet');
    expect(calls.filter((c) => c.name === 'createTopics')).toHaveLength(2);
  });

  it('reports why the broker refused to create a topic', async () => {
    const refusal = Object.assign(new Error('Topic creation errors'), {
      errors: [{ topic: 't', message: 'Replication-factor is invalid.' }],
    });
    const { admin } = fakeAdmin({
      listTopics: () => [],
      createTopics: () => {
        throw refusal;
      },
    });
    await expect(new TopicProvisioner(admin, { partitions: 1, replicationFactor: 3 }).ensure(['t'])).rejects.toThrow(
      'creating topics failed: Topic creation errors: t: Replication-factor is invalid.',
    );
  });

  it('waits for readiness before its first call to the broker', async () => {
    const order: string[] = [];
    const { admin } = fakeAdmin({
      listTopics: () => {
        order.push('listTopics');
        return [];
      },
      fetchTopicMetadata: () => served([]),
    });
    const readiness = {
      wait: () => {
        order.push('ready');
        return Promise.resolve();
      },
    } as unknown as KafkaReadiness;
    await new TopicProvisioner(admin, { partitions: 1, replicationFactor: 1 }, readiness).ensure(['t']);
    expect(order.slice(0, 2)).toEqual(['ready', 'listTopics']);
  });
});

/** A Kafka client whose admin and producer fail the first `failures` probes. */
function flakyKafka(failures: number, reason: string | Error = 'The group coordinator is not available') {
  let probes = 0;
  const kafka = {
    admin: () =>
      fakeAdmin({
        connect: () => void probes++,
        describeCluster: () => ({ brokers: [{ nodeId: 1 }] }),
        describeGroups: () => {
          if (probes <= failures) throw typeof reason === 'string' ? new Error(reason) : reason;
          return { groups: [] };
        },
        fetchTopicMetadata: () => served(['__consumer_offsets']),
      }).admin,
    producer: () => ({ connect: () => Promise.resolve(), disconnect: () => Promise.resolve() }),
  } as unknown as Kafka;
  return { kafka, probes: () => probes };
}

describe('KafkaReadiness', () => {
  it('probes until the cluster can serve, shares the probe between callers, then stays ready', async () => {
    const { kafka, probes } = flakyKafka(2);
    const readiness = new KafkaReadiness(kafka, { timeoutMs: 5_000 });
    await Promise.all([readiness.wait(), readiness.wait()]);
    expect(probes()).toBe(3);
    expect(readiness.isReady).toBe(true);
    await readiness.wait();
    expect(probes()).toBe(3);
  });

  it('gives up after timeoutMs with the last reason, and a later wait probes again', async () => {
    const { kafka, probes } = flakyKafka(Number.MAX_SAFE_INTEGER);
    const readiness = new KafkaReadiness(kafka, { timeoutMs: 300 });
    await expect(readiness.wait()).rejects.toThrow('Kafka is not ready after 300 ms: The group coordinator is not available');
    const before = probes();
    await expect(readiness.wait()).rejects.toThrow('not ready');
    expect(probes()).toBeGreaterThan(before);
    expect(readiness.isReady).toBe(false);
  });

  it('counts a probe it is not authorised to make as answered (ACLs), but not other failures', async () => {
    const forbidden = Object.assign(new Error('Not authorized to access group'), { type: 'GROUP_AUTHORIZATION_FAILED' });
    await expect(
      new KafkaReadiness(flakyKafka(Number.MAX_SAFE_INTEGER, forbidden).kafka, { timeoutMs: 300 }).wait(),
    ).resolves.toBeUndefined();
    const other = Object.assign(new Error('The coordinator is loading'), { type: 'COORDINATOR_LOAD_IN_PROGRESS' });
    await expect(new KafkaReadiness(flakyKafka(Number.MAX_SAFE_INTEGER, other).kafka, { timeoutMs: 300 }).wait()).rejects.toThrow(
      'The coordinator is loading',
    );
  });

  it('a waiting caller leaves as soon as its signal aborts', async () => {
    const { kafka } = flakyKafka(Number.MAX_SAFE_INTEGER);
    const readiness = new KafkaReadiness(kafka, { timeoutMs: 2_000 });
    const stop = new AbortController();
    const started = Date.now();
    const waiting = readiness.wait(stop.signal);
    setTimeout(() => stop.abort(new Error('relay stopping')), 50);
    await expect(waiting).rejects.toThrow('relay stopping');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
