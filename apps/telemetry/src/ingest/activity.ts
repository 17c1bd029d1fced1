import { Kafka, Producer } from 'kafkajs';
import { DeviceSeenData, EventSources, TelemetryEventTypes, Topics } from '@iip/contracts';
import { TopicProvisioner, createEnvelope, createIdempotentProducer } from '@iip/platform-kafka';
import { AppLogger } from '@iip/platform-observability';

const HOUR_MS = 3_600_000;

/**
 * Tells the platform which devices are networked: the first time in each hour that a device's
 * data is accepted here, `DeviceSeen` goes out on iip.telemetry.activity.v1 (the device
 * registry's networking rate reads it). It never holds up an acknowledgement: a send that fails
 * is tried again with the device's next data in that hour. Each instance announces a device at
 * most once an hour (several instances may each do so; the reader keeps the newest).
 */
export class DeviceActivity {
  private readonly producer: Producer;
  private readonly topic: string;
  /** deviceId → the hour (epoch ms) it was last announced for. */
  private readonly announced = new Map<string, number>();
  private ready?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly topics: TopicProvisioner,
    topicPrefix: string,
    private readonly logger: AppLogger,
  ) {
    this.producer = createIdempotentProducer(kafka);
    this.topic = topicPrefix + Topics.telemetryActivity;
  }

  seen(tenantId: string, deviceId: string): void {
    const now = Date.now();
    const hour = now - (now % HOUR_MS);
    if (this.announced.get(deviceId) === hour) return;
    this.announced.set(deviceId, hour);
    if (this.announced.size > 1_000_000) this.forgetBefore(hour);
    const data: DeviceSeenData = { deviceId, tenantId, hour: new Date(hour).toISOString(), lastSeenAt: new Date(now).toISOString() };
    this.send(data).catch((err: unknown) => {
      if (this.announced.get(deviceId) === hour) this.announced.delete(deviceId);
      this.logger.debug({ err: (err as Error).message, deviceId }, 'DeviceSeen not sent; the next data tries again');
    });
  }

  async stop(): Promise<void> {
    if (this.ready) await this.producer.disconnect().catch(() => undefined);
  }

  private async send(data: DeviceSeenData): Promise<void> {
    this.ready ??= (async () => {
      await this.topics.ensure([this.topic]);
      await this.producer.connect();
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    await this.ready;
    const envelope = createEnvelope<DeviceSeenData>({
      type: TelemetryEventTypes.DeviceSeen,
      source: EventSources.telemetry,
      tenantId: data.tenantId,
      subject: data.deviceId,
      data,
    });
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: data.deviceId, value: JSON.stringify(envelope) }] });
  }

  private forgetBefore(hour: number): void {
    for (const [id, h] of this.announced) if (h < hour) this.announced.delete(id);
  }
}
