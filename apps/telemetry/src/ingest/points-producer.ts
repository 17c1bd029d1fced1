import { Message, Producer } from 'kafkajs';
import { Topics, EventSources, TelemetryEventTypes, TelemetryPoint, TelemetryPointsData } from '@iip/contracts';
import { TopicProvisioner, createEnvelope, createIdempotentProducer } from '@iip/platform-kafka';
import type { Kafka } from 'kafkajs';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';

/**
 * Kafka refuses a record batch over its message.max.bytes (1 MiB by default), and kafkajs puts a
 * send's messages for one partition in one batch: messages stay under half of that, and one send
 * under it in all.
 */
const MAX_MESSAGE_BYTES = 512 * 1024;
const MAX_SEND_BYTES = 900 * 1024;

interface Pending {
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Sends accepted points to iip.telemetry.points.v1 (keyed by device, acks from all in-sync
 * replicas, idempotent) and resolves each caller only once Kafka holds its points. Callers that
 * arrive while a send is in flight go out together in the next one (group commit), so many
 * small requests cost a few large produce requests.
 */
export class PointsProducer {
  private readonly producer: Producer;
  private readonly queue: Pending[] = [];
  private sending = false;
  private connected?: Promise<void>;
  readonly topic: string;

  constructor(
    kafka: Kafka,
    private readonly topics: TopicProvisioner,
    topicPrefix: string,
    private readonly partitions: number,
  ) {
    this.producer = createIdempotentProducer(kafka);
    this.topic = topicPrefix + Topics.telemetryPoints;
  }

  /** Resolves once Kafka acknowledged the points; BACKBONE_UNAVAILABLE when it cannot take them now. */
  send(tenantId: string, deviceId: string, points: TelemetryPoint[]): Promise<void> {
    if (points.length === 0) return Promise.resolve();
    const messages: Message[] = [];
    const bytes = this.messagesOf(tenantId, deviceId, points, messages);
    return new Promise((resolve, reject) => {
      this.queue.push({ messages, bytes, resolve, reject });
      void this.flush();
    });
  }

  /** Adds one message for the points to `out`, or several when one would be larger than the broker takes (halved until each fits); returns their bytes. */
  private messagesOf(tenantId: string, deviceId: string, points: TelemetryPoint[], out: Message[]): number {
    const value = JSON.stringify(
      createEnvelope<TelemetryPointsData>({
        type: TelemetryEventTypes.TelemetryPointsAccepted,
        source: EventSources.telemetry,
        tenantId,
        subject: deviceId,
        data: { deviceId, tenantId, points },
      }),
    );
    const bytes = Buffer.byteLength(value);
    if (points.length === 1 || bytes <= MAX_MESSAGE_BYTES) {
      out.push({ key: deviceId, value });
      return bytes;
    }
    const half = Math.ceil(points.length / 2);
    return this.messagesOf(tenantId, deviceId, points.slice(0, half), out) + this.messagesOf(tenantId, deviceId, points.slice(half), out);
  }

  async stop(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        // As many waiting sends as fit one request the broker takes (a partition's record batch is bounded by its message.max.bytes).
        let take = 1;
        for (let bytes = this.queue[0].bytes; take < this.queue.length && bytes + this.queue[take].bytes <= MAX_SEND_BYTES; take++)
          bytes += this.queue[take].bytes;
        const group = this.queue.splice(0, take);
        try {
          await this.ready();
          // One request unless a single caller's points need more: then its messages go in turn (a failure half way
          // makes the caller send them all again, and what was written already is stored once all the same).
          const messages = group.flatMap((g) => g.messages);
          if (group.length > 1 || group[0].bytes <= MAX_SEND_BYTES) await this.producer.send({ topic: this.topic, messages, acks: -1 });
          else for (const m of messages) await this.producer.send({ topic: this.topic, messages: [m], acks: -1 });
          for (const g of group) g.resolve();
        } catch (err) {
          // Reconnect on the next send: the broker may be back by then.
          this.connected = undefined;
          const refusal = new TelemetryError(
            TelemetryErrorCode.BACKBONE_UNAVAILABLE,
            `The points could not be written to Kafka (${err instanceof Error ? err.message : String(err)}); nothing was accepted, send them again`,
          );
          for (const g of group) g.reject(refusal);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private ready(): Promise<void> {
    this.connected ??= (async () => {
      await this.topics.ensure([this.topic], undefined, this.partitions);
      await this.producer.connect();
    })().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }
}
