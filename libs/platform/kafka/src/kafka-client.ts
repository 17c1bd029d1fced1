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
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 15_000,
    retry: { initialRetryTime: 250, retries: 4, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...rest } = entry.log as LogEntry['log'] & { logger?: string };
      const fields = { kafka: entry.namespace, ...rest };
      switch (entry.level) {
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
    },
  });
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
 * alone. Remembers what it created so the hot path asks the broker once.
 */
export class TopicProvisioner {
  private readonly known = new Set<string>();

  constructor(
    private readonly admin: Admin,
    private readonly settings: Pick<KafkaSettings, 'partitions' | 'replicationFactor'>,
  ) {}

  async ensure(topics: string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (missing.length === 0) return;
    const existing = new Set(await this.admin.listTopics());
    const toCreate = missing.filter((t) => !existing.has(t));
    if (toCreate.length > 0) {
      try {
        await this.admin.createTopics({
          waitForLeaders: true,
          topics: toCreate.map((topic) => ({
            topic,
            numPartitions: topic.endsWith('.dlq') ? 1 : this.settings.partitions,
            replicationFactor: this.settings.replicationFactor,
          })),
        });
      } catch (err) {
        // Another instance may have created them meanwhile.
        if (!String((err as Error).message).includes('already exists')) throw err;
      }
    }
    missing.forEach((t) => this.known.add(t));
  }
}

export async function waitForKafka(admin: Admin): Promise<void> {
  await admin.connect();
  await admin.describeCluster();
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
