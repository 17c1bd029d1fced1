import { randomUUID } from 'node:crypto';
import { Consumer, Kafka } from 'kafkajs';
import { EventEnvelope, MalformedEnvelopeError, parseEnvelope } from './envelope';
import { TopicProvisioner } from './kafka-client';

export interface ListenerLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Keeps trying `start` with backoff until it succeeds or `stopped()` says to give up, so a
 * service comes up (and serves) while Kafka is away and joins in when it returns.
 */
export async function startWithRetry(
  start: () => Promise<void>,
  stopped: () => boolean,
  logger: ListenerLogger,
  what: string,
): Promise<void> {
  for (let delay = 500; !stopped(); delay = Math.min(delay * 2, 10_000)) {
    try {
      await start();
      return;
    } catch (err) {
      logger.warn({ err: (err as Error).message, retryInMs: delay }, `${what} cannot start yet`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Every instance receives every message (its own consumer group), from now on: for
 * invalidating in-process caches. Nothing durable depends on it, so it records nothing; a
 * malformed message is skipped.
 */
export class BroadcastListener {
  private consumer?: Consumer;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicProvisioner,
    private readonly logger: ListenerLogger,
    private readonly options: { name: string; topics: string[]; handle: (event: EventEnvelope) => Promise<void> | void },
  ) {}

  /** Starts in the background; resolves at once. */
  start(): void {
    void startWithRetry(
      () => this.connect(),
      () => this.stopped,
      this.logger,
      `${this.options.name} listener`,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }

  private async connect(): Promise<void> {
    await this.topics.ensure(this.options.topics);
    const consumer = this.kafka.consumer({
      groupId: `${this.options.name}-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.options.topics, fromBeginning: false });
      await consumer.run({
        eachMessage: async ({ message }) => {
          let event: EventEnvelope;
          try {
            event = parseEnvelope(message.value);
          } catch (err) {
            if (err instanceof MalformedEnvelopeError) return;
            throw err;
          }
          await this.options.handle(event);
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.consumer = consumer;
    if (this.stopped) await consumer.disconnect();
  }
}
