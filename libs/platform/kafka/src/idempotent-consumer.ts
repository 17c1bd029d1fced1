import { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DataSource, EntityManager } from 'typeorm';
import { isDomainError } from '@iip/platform-errors';
import { REQUEST_ID_HEADER, normaliseRequestId, runWithRequestContext } from '@iip/platform-observability';
import { EventEnvelope, MalformedEnvelopeError, parseEnvelope } from './envelope';
import { TopicProvisioner, dlqTopicOf } from './kafka-client';

export interface MessageContext {
  /** The transaction in which the event id is recorded; write the effect through it. */
  manager: EntityManager;
  topic: string;
  partition: number;
  offset: string;
  attempt: number;
}

export type EventHandler = (event: EventEnvelope, ctx: MessageContext) => Promise<void>;

interface ConsumerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface IdempotentConsumerOptions {
  groupId: string;
  /** Full topic names (prefix included). */
  topics: string[];
  handle: EventHandler;
  /**
   * Applies consecutive events of a partition together, in one transaction (bulk writes: a
   * device import's registrations). A batch that fails is applied again one event at a time
   * through `handle`, with the usual retries and dead-lettering.
   */
  handleMany?: (events: EventEnvelope[], ctx: { manager: EntityManager; topic: string; partition: number }) => Promise<void>;
  /** Events per handleMany call at most (default 500). */
  maxBatch?: number;
  /** Attempts before a message is dead-lettered (first try included). */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  fromBeginning?: boolean;
  onOutcome?: (topic: string, outcome: 'applied' | 'duplicate' | 'retried' | 'dead-lettered') => void;
}

/** Decides what a failure means: a domain error knows; a malformed message never heals; the rest may. */
export function dispositionOf(err: unknown): 'retry' | 'dead-letter' {
  if (err instanceof MalformedEnvelopeError) return 'dead-letter';
  if (isDomainError(err)) return err.kafkaDisposition();
  return 'retry';
}

/**
 * At-least-once consumer that applies each event exactly once: the event id is recorded in
 * the same transaction as the handler's effect. A failing message is retried with backoff a
 * bounded number of times, then sent to `<topic>.dlq` with the error, and its partition moves on.
 */
export class IdempotentConsumer {
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly dataSource: DataSource,
    private readonly dlqProducer: Producer,
    private readonly topicsProvisioner: TopicProvisioner,
    private readonly logger: ConsumerLogger,
    private readonly options: IdempotentConsumerOptions,
  ) {}

  async start(): Promise<void> {
    await this.topicsProvisioner.ensure([...this.options.topics, ...this.options.topics.map(dlqTopicOf)]);
    await this.dlqProducer.connect();
    this.consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.processBatch(payload),
    });
  }

  /** Finishes the message in hand, commits what was processed and leaves the group. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
    await this.dlqProducer.disconnect().catch(() => undefined);
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const maxBatch = this.options.maxBatch ?? 500;
    for (let i = 0; i < batch.messages.length;) {
      if (!payload.isRunning() || payload.isStale()) break;
      if (this.options.handleMany) {
        const group = batch.messages.slice(i, i + maxBatch);
        if (group.length > 1 && (await this.applyTogether(batch.topic, batch.partition, group))) {
          i += group.length;
          payload.resolveOffset(group[group.length - 1].offset);
          await payload.commitOffsetsIfNecessary();
          await heartbeat();
          continue;
        }
      }
      const message = batch.messages[i++];
      const requestId = normaliseRequestId(headerValue(message.headers, REQUEST_ID_HEADER));
      await runWithRequestContext(requestId, () => this.processMessage(batch.topic, batch.partition, message, heartbeat));
      payload.resolveOffset(message.offset);
      await payload.commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  /** One transaction for the group; false (nothing applied) when a message is malformed or the handler fails. */
  private async applyTogether(topic: string, partition: number, messages: KafkaMessage[]): Promise<boolean> {
    const handleMany = this.options.handleMany;
    if (!handleMany) return false;
    let events: EventEnvelope[];
    try {
      events = messages.map((m) => parseEnvelope(m.value));
    } catch {
      return false; // one at a time: the malformed one goes to the DLQ alone
    }
    try {
      const applied = await this.dataSource.transaction(async (manager) => {
        const inserted: { event_id: string }[] = await manager.query(
          `INSERT INTO processed_events (consumer_group, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_id`,
          [this.options.groupId, events.map((e) => e.id)],
        );
        const fresh = new Set(inserted.map((r) => r.event_id));
        // Each event once, also when the partition holds it twice.
        const todo = events.filter((e) => fresh.delete(e.id));
        if (todo.length > 0) await handleMany(todo, { manager, topic, partition });
        return todo.length;
      });
      for (let n = 0; n < events.length; n++) this.options.onOutcome?.(topic, n < applied ? 'applied' : 'duplicate');
      return true;
    } catch (err) {
      this.logger.warn(
        { topic, partition, events: events.length, err: (err as Error).message },
        'batch failed; applying its events one at a time',
      );
      return false;
    }
  }

  private async processMessage(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    let backoff = this.options.initialBackoffMs ?? 200;
    let event: EventEnvelope;
    try {
      event = parseEnvelope(message.value);
    } catch (err) {
      await this.deadLetter(topic, partition, message, err, 1);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const applied = await this.dataSource.transaction(async (manager) => {
          const inserted: { event_id: string }[] = await manager.query(
            'INSERT INTO processed_events (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id',
            [this.options.groupId, event.id],
          );
          if (inserted.length === 0) return false;
          await this.options.handle(event, { manager, topic, partition, offset: message.offset, attempt });
          return true;
        });
        this.options.onOutcome?.(topic, applied ? 'applied' : 'duplicate');
        return;
      } catch (err) {
        if (dispositionOf(err) === 'dead-letter' || attempt >= maxAttempts) {
          await this.deadLetter(topic, partition, message, err, attempt);
          return;
        }
        this.options.onOutcome?.(topic, 'retried');
        this.logger.warn(
          { topic, partition, offset: message.offset, eventId: event.id, attempt, err: (err as Error).message },
          'event handling failed; retrying',
        );
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 5_000);
        await heartbeat();
      }
    }
  }

  /** Never drops a message silently: if the DLQ cannot be written, the batch fails and is redelivered. */
  private async deadLetter(topic: string, partition: number, message: KafkaMessage, err: unknown, attempts: number): Promise<void> {
    const code = await sendToDeadLetter(this.dlqProducer, this.options.groupId, { topic, partition, message }, err, attempts);
    this.options.onOutcome?.(topic, 'dead-lettered');
    this.logger.error({ topic, partition, offset: message.offset, attempts, code, err: errorOf(err).message }, 'message dead-lettered');
  }
}

const errorOf = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Sends a message that cannot be applied to `<topic>.dlq` (acks from all replicas) with why, in
 * headers beside its own; resolves with the error code recorded. Throws when the DLQ cannot be
 * written, so the caller does not move past the message.
 */
export async function sendToDeadLetter(
  producer: Producer,
  groupId: string,
  from: { topic: string; partition: number; message: KafkaMessage },
  err: unknown,
  attempts: number,
): Promise<string> {
  const { topic, partition, message } = from;
  const error = errorOf(err);
  const code: string = isDomainError(err) ? err.code : error.name;
  await producer.send({
    topic: dlqTopicOf(topic),
    acks: -1,
    messages: [
      {
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          'x-dlq-error': error.message.slice(0, 2000),
          'x-dlq-error-code': code,
          'x-dlq-attempts': String(attempts),
          'x-dlq-original-topic': topic,
          'x-dlq-original-partition': String(partition),
          'x-dlq-original-offset': message.offset,
          'x-dlq-consumer-group': groupId,
        },
      },
    ],
  });
  return code;
}

function headerValue(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
