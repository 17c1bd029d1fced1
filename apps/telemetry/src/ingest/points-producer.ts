import { Message, Producer } from 'kafkajs';
import { Topics, EventSources, TelemetryEventTypes, TelemetryPoint, TelemetryPointsData } from '@iip/contracts';
import { TopicProvisioner, createEnvelope, createIdempotentProducer } from '@iip/platform-kafka';
import type { Kafka } from 'kafkajs';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';

interface Pending {
  messages: Message[];
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
    const envelope = createEnvelope<TelemetryPointsData>({
      type: TelemetryEventTypes.TelemetryPointsAccepted,
      source: EventSources.telemetry,
      tenantId,
      subject: deviceId,
      data: { deviceId, tenantId, points },
    });
    return new Promise((resolve, reject) => {
      this.queue.push({ messages: [{ key: deviceId, value: JSON.stringify(envelope) }], resolve, reject });
      void this.flush();
    });
  }

  async stop(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.queue.length);
        try {
          await this.ready();
          await this.producer.send({ topic: this.topic, messages: group.flatMap((g) => g.messages), acks: -1 });
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
