import { Admin, Kafka, LogEntry, Partitioners, Producer, logLevel } from 'kafkajs';

interface KafkaLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** Prepended to every topic name; isolates test runs on a shared broker. */
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
}

export function createKafka(settings: KafkaSettings, logger: KafkaLogger): Kafka {
  return new Kafka({
    ...clientOptions(settings),
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => forward(logger, entry, kafkaLogLevel(entry)),
  });
}

/**
 * A client for start-up and control-plane calls (readiness, topic provisioning). Their failures
 * are expected while a broker is fresh or coming up, and kafkajs logs each failed response as
 * an error before retrying it; here those lines go to debug. What cannot be recovered is
 * thrown to the caller, which reports it.
 */
export function createControlPlaneKafka(settings: Pick<KafkaSettings, 'brokers' | 'clientId'>, logger: KafkaLogger): Kafka {
  return new Kafka({
    ...clientOptions(settings),
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => forward(logger, entry, logLevel.DEBUG),
  });
}

function clientOptions(settings: Pick<KafkaSettings, 'brokers' | 'clientId'>) {
  return {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 15_000,
    retry: { initialRetryTime: 250, retries: 4, maxRetryTime: 5_000 },
  };
}

/**
 * The level a kafkajs log line is logged at: its own, except for lines that are expected by
 * design and ask nothing of an operator. Keep this list short and exact.
 */
export function kafkaLogLevel(entry: Pick<LogEntry, 'namespace' | 'level'> & { log: { message: string } }): logLevel {
  // Printed for every idempotent producer: retries are bounded on purpose (createIdempotentProducer).
  if (entry.namespace === 'Producer' && entry.log.message.startsWith('Limiting retries for the idempotent producer')) return logLevel.DEBUG;
  return entry.level;
}

function forward(logger: KafkaLogger, entry: LogEntry, level: logLevel): void {
  const { message, timestamp: _t, logger: _l, ...rest } = entry.log as LogEntry['log'] & { logger?: string };
  const fields = { kafka: entry.namespace, ...rest };
  switch (level) {
    case logLevel.ERROR:
      return logger.error(fields, message);
    case logLevel.WARN:
      return logger.warn(fields, message);
    case logLevel.INFO:
      return logger.info(fields, message);
    case logLevel.DEBUG:
    case logLevel.NOTHING:
      return logger.debug(fields, message);
  }
}

/** Idempotent producer: acks from all in-sync replicas, no duplicates from its own retries. */
export function createIdempotentProducer(kafka: Kafka): Producer {
  // Retries stay bounded so a send fails while the broker is down: the outbox keeps the event
  // and the relay tries again later; consumers are idempotent, so a rare duplicate is harmless.
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

export const dlqTopicOf = (topic: string) => `${topic}.dlq`;

/**
 * Creates topics with explicit partitions and replication factor; existing ones are left
 * alone. Remembers what it has seen so the hot path asks the broker once. Consumers and the
 * outbox relay call ensure() before they first talk to Kafka, so with a readiness gate it is
 * also where they wait, quietly, for a fresh broker to be able to serve them.
 */
export class TopicProvisioner {
  private readonly known = new Set<string>();

  constructor(
    private readonly admin: Admin,
    private readonly settings: Pick<KafkaSettings, 'partitions' | 'replicationFactor'>,
    private readonly readiness?: KafkaReadiness,
    private readonly leaderTimeoutMs = 15_000,
  ) {}

  /** Creates what is missing of `topics` (with `partitions` each, when given, instead of the default; DLQs get one). */
  async ensure(topics: string[], signal?: AbortSignal, partitions?: number): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (missing.length === 0) return;
    await this.readiness?.wait(signal);
    const existing = new Set(await this.admin.listTopics());
    const toCreate = missing.filter((t) => !existing.has(t));
    if (toCreate.length > 0) {
      // Resolves false when another instance created them meanwhile. Leaders are waited for
      // below: kafkajs' own wait gives up when the broker does not know the new topic yet.
      await this.admin
        .createTopics({
          waitForLeaders: false,
          topics: toCreate.map((topic) => ({
            topic,
            numPartitions: topic.endsWith('.dlq') ? 1 : (partitions ?? this.settings.partitions),
            replicationFactor: this.settings.replicationFactor,
          })),
        })
        .catch((err: unknown) => {
          throw new Error(`creating topics failed: ${describeKafkaError(err)}`, { cause: err });
        });
    }
    // A new topic (ours or another instance's) is not served at once: its leaders are elected,
    // then take over. Wait here, or the first produce or subscribe on it fails (and logs)
    // "no leader", "not the leader" or "does not host this topic-partition".
    await this.waitUntilServed(missing, signal);
    missing.forEach((t) => this.known.add(t));
  }

  private async waitUntilServed(topics: string[], signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.leaderTimeoutMs;
    for (;;) {
      let reason: string;
      try {
        const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics });
        const leaderless = metadata.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (leaderless.length === 0) {
          // Answered by each partition's leader only once it has taken over.
          for (const topic of topics) await this.admin.fetchTopicOffsets(topic);
          return;
        }
        reason = `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`;
      } catch (err) {
        reason = (err as Error).message;
      }
      if (Date.now() >= deadline) throw new Error(`topics not ready after ${this.leaderTimeoutMs} ms: ${reason}`);
      await abortableSleep(200, signal);
    }
  }
}

export interface KafkaReadinessOptions {
  /** How long one wait() keeps trying before it rejects with the last reason. */
  timeoutMs?: number;
  /** Group id whose coordinator lookup proves the group coordinator is available. */
  probeGroupId?: string;
}

/**
 * Waits until a (possibly brand-new) cluster can serve this service's first consumers and
 * producers: a broker answers, the group coordinator is available (the first group lookup on
 * a fresh broker creates __consumer_offsets, and lookups fail until its partitions have
 * leaders) and producer ids are issued (a fresh KRaft broker answers the first InitProducerId
 * with "coordinator is loading"). It probes through a control-plane client, so those expected
 * failures are logged at debug only. Once ready it stays ready: later outages are real and
 * are reported by the relay and the consumers themselves.
 */
export class KafkaReadiness {
  private ready = false;
  private attempt?: Promise<void>;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaReadinessOptions = {},
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  /** Resolves once ready; rejects after timeoutMs with the last reason, or when `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    if (this.ready) return;
    signal?.throwIfAborted();
    // Concurrent callers share one probe.
    this.attempt ??= this.probeUntilReady().finally(() => (this.attempt = undefined));
    await (signal ? untilAborted(this.attempt, signal) : this.attempt);
  }

  private async probeUntilReady(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        await this.probe();
        this.ready = true;
        return;
      } catch (err) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`Kafka is not ready after ${timeoutMs} ms: ${(err as Error).message}`);
        await abortableSleep(Math.min(delay, left));
      }
    }
  }

  private async probe(): Promise<void> {
    const admin = this.kafka.admin();
    const producer = createIdempotentProducer(this.kafka);
    try {
      await admin.connect();
      const { brokers } = await admin.describeCluster();
      if (brokers.length === 0) throw new Error('no brokers in the cluster metadata');
      // On a cluster with ACLs this client may not be allowed to look: then the broker has
      // answered, which is all a probe can learn, and the service's own calls will tell.
      await unlessForbidden(admin.describeGroups([this.options.probeGroupId ?? 'iip.readiness-probe']));
      await unlessForbidden(admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] }).then(assertLeaders));
      await unlessForbidden(producer.connect());
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }
}

function assertLeaders({ topics }: { topics: { name: string; partitions: { leader: number }[] }[] }): void {
  const leaderless = topics.filter((t) => t.partitions.some((p) => p.leader < 0)).map((t) => t.name);
  if (leaderless.length > 0) throw new Error(`no leader yet for ${leaderless.join(', ')}`);
}

async function unlessForbidden(step: Promise<unknown>): Promise<void> {
  try {
    await step;
  } catch (err) {
    const e = err as { type?: string; cause?: { type?: string } };
    if (!/_AUTHORIZATION_FAILED$/.test(e.type ?? e.cause?.type ?? '')) throw err;
  }
}

/** The message of a kafkajs error, with the per-topic reasons an aggregate error ("Topic creation errors") hides. */
export function describeKafkaError(err: unknown): string {
  const e = err as { message?: string; errors?: { topic?: string; message?: string }[] };
  const parts = (e.errors ?? []).map((x) => (x.topic ? `${x.topic}: ${x.message}` : String(x.message)));
  return parts.length > 0 ? `${e.message}: ${parts.join('; ')}` : String(e.message ?? err);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return untilAborted(new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), signal);
}

/** `promise`, or a rejection as soon as `signal` aborts (the work behind `promise` goes on). */
function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function kafkaHealth(admin: Admin) {
  return {
    name: 'kafka',
    // The outbox keeps writes working while Kafka is away: degraded, not unready.
    critical: false,
    async check() {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('no brokers in the cluster metadata');
    },
  };
}
