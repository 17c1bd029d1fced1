import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Kafka } from 'kafkajs';
import { EventEnvelope, MalformedEnvelopeError, parseEnvelope } from './envelope';
import { TopicProvisioner } from './kafka-client';
import { startWithRetry } from './broadcast-listener';

interface ListenerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReplayingListenerOptions {
  /** Consumer group name; every instance (and every start) adds its own suffix. */
  name: string;
  /** Full topic names (prefix included). */
  topics: string[];
  /** How far back from "now" a start reads, ms. */
  replayMs: number;
  /** Applies one fetched batch, in order; malformed messages are already left out. */
  handle: (events: EventEnvelope[]) => void;
}

/**
 * Like BroadcastListener (every instance hears every message, its own consumer group), but a
 * start first seeks back to what was written in the last `replayMs` — so state that must not be
 * missed (revocations) is known to an instance started after it was announced — then keeps
 * following. `caughtUp` resolves once what was on the topics at start has been applied.
 */
export class ReplayingListener {
  private consumer?: Consumer;
  private stopped = false;
  private isCaughtUp = false;
  private markCaughtUp!: () => void;
  private readonly caughtUpPromise = new Promise<void>((resolve) => (this.markCaughtUp = resolve));

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly topics: TopicProvisioner,
    private readonly logger: ListenerLogger,
    private readonly options: ReplayingListenerOptions,
  ) {}

  /** Starts in the background (retrying while Kafka is away); resolves at once. */
  start(): void {
    void startWithRetry(
      () => this.connect(),
      () => this.stopped,
      this.logger,
      `${this.options.name} listener`,
    );
  }

  get caughtUp(): boolean {
    return this.isCaughtUp;
  }

  /** Waits until the replay has been applied, or `timeoutMs` passed; says which. */
  async waitUntilCaughtUp(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.caughtUpPromise.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }

  private async connect(): Promise<void> {
    const { topics: names, replayMs, name } = this.options;
    await this.topics.ensure(names);
    await this.admin.connect();
    const since = Date.now() - replayMs;
    // Where to start (the first offset at or after `since`) and where the replay ends (the
    // high watermark now), per partition.
    const starts: { topic: string; partition: number; offset: string }[] = [];
    const pending = new Map<string, bigint>();
    for (const topic of names) {
      const ends = await this.admin.fetchTopicOffsets(topic);
      const from = await this.admin.fetchTopicOffsetsByTimestamp(topic, since);
      for (const { partition, offset } of from) {
        starts.push({ topic, partition, offset });
        const end = ends.find((e) => e.partition === partition);
        if (end && BigInt(end.high) > BigInt(offset)) pending.set(`${topic}:${partition}`, BigInt(end.high));
      }
    }
    const consumer = this.kafka.consumer({
      groupId: `${name}-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // An idle fetch returns at once when a message arrives; this only bounds an idle long poll.
      maxWaitTimeInMs: 1_000,
      // kafkajs restarts a crashed consumer on a timer; once stopped, it must not come back.
      retry: { restartOnFailure: () => Promise.resolve(!this.stopped) },
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.stopped) void consumer.disconnect().catch(() => undefined);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: names, fromBeginning: false });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const events: EventEnvelope[] = [];
          for (const message of batch.messages) {
            try {
              events.push(parseEnvelope(message.value));
            } catch (err) {
              if (!(err instanceof MalformedEnvelopeError)) throw err;
            }
          }
          if (events.length > 0) this.options.handle(events);
          if (pending.size > 0 && batch.messages.length > 0) {
            const key = `${batch.topic}:${batch.partition}`;
            const end = pending.get(key);
            if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) {
              pending.delete(key);
              if (pending.size === 0) this.caughtUpNow();
            }
          }
          return Promise.resolve();
        },
      });
      // After run(): the seeks apply when the partitions are assigned, before the first fetch.
      for (const start of starts) consumer.seek(start);
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.consumer = consumer;
    if (pending.size === 0) this.caughtUpNow();
    if (this.stopped) await consumer.disconnect();
  }

  private caughtUpNow(): void {
    if (this.isCaughtUp) return;
    this.isCaughtUp = true;
    this.markCaughtUp();
    this.logger.info({ listener: this.options.name }, 'replay applied; following');
  }
}
