import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { ListenerLogger, startWithRetry } from './broadcast-listener';

export interface BatchConsumerOptions {
  /** What the logs call it while it cannot start yet. */
  what: string;
  groupId: string;
  topic: string;
  /** Runs before the consumer connects, on every attempt (topics to ensure, producers to connect). */
  prepare?: () => Promise<void>;
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
}

/**
 * A consumer group that takes a topic in batches and resolves offsets itself (eachBatchAutoResolve
 * off: an offset is resolved only once its batch's work is committed), two partitions at a time,
 * from the beginning for a new group. Starts in the background, retrying until the broker answers;
 * `stop()` disconnects it (also one still starting).
 */
export class BatchConsumer {
  private consumer?: Consumer;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: ListenerLogger,
    private readonly options: BatchConsumerOptions,
  ) {}

  start(): void {
    void startWithRetry(
      async () => {
        await this.options.prepare?.();
        const consumer = this.kafka.consumer({
          groupId: this.options.groupId,
          sessionTimeout: 30_000,
          heartbeatInterval: 3_000,
          allowAutoTopicCreation: false,
          maxBytesPerPartition: 4 * 1024 * 1024,
        });
        await consumer.connect();
        await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
        await consumer.run({
          autoCommit: true,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 2,
          eachBatch: (payload) => this.options.eachBatch(payload),
        });
        this.consumer = consumer;
        if (this.stopped) await consumer.disconnect();
      },
      () => this.stopped,
      this.logger,
      this.options.what,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }
}
