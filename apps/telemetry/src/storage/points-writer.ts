import { EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { TelemetryPoint, TelemetryPointsData } from '@iip/contracts';
import {
  BatchConsumer,
  MalformedEnvelopeError,
  TopicProvisioner,
  createIdempotentProducer,
  dlqTopicOf,
  parseEnvelope,
  sendToDeadLetter,
} from '@iip/platform-kafka';
import { AppLogger, Metrics } from '@iip/platform-observability';
import { LatestValues } from './latest-values';
import { PointsStore, StoredPoint } from './points-store';
import { RuleEngine } from '../rules/rule-engine';

export interface WriterSettings {
  groupId: string;
  topic: string;
  partitions: number;
  batchPoints: number;
}

/**
 * The batched writer: reads iip.telemetry.points.v1 in batches, stores each batch's points in
 * one transaction (COPY, once per device/property/instant, rollups and rule state beside them)
 * and only then commits the offsets — so a crash anywhere means a redelivery, and a redelivery
 * stores nothing twice. A message that is not a points envelope goes to the DLQ with why.
 */
export class PointsWriter {
  private consumer?: BatchConsumer;
  private readonly dlq: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly dataSource: DataSource,
    private readonly topics: TopicProvisioner,
    private readonly store: PointsStore,
    private readonly latest: LatestValues,
    private readonly rules: RuleEngine,
    private readonly logger: AppLogger,
    private readonly metrics: Metrics,
    private readonly settings: WriterSettings,
  ) {
    this.dlq = createIdempotentProducer(kafka);
  }

  start(): void {
    this.consumer = new BatchConsumer(this.kafka, this.logger, {
      what: 'telemetry points writer',
      groupId: this.settings.groupId,
      topic: this.settings.topic,
      prepare: async () => {
        await this.topics.ensure([this.settings.topic], undefined, this.settings.partitions);
        await this.topics.ensure([dlqTopicOf(this.settings.topic)]);
        await this.dlq.connect();
      },
      eachBatch: (payload) => this.processBatch(payload),
    });
    this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.dlq.disconnect().catch(() => undefined);
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    let group: { message: KafkaMessage; data: TelemetryPointsData }[] = [];
    let points = 0;
    const flush = async () => {
      if (group.length === 0) return;
      await this.write(group.map((g) => g.data));
      payload.resolveOffset(group[group.length - 1].message.offset);
      await payload.commitOffsetsIfNecessary();
      await payload.heartbeat();
      group = [];
      points = 0;
    };
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      let data: TelemetryPointsData;
      try {
        data = pointsOf(message);
      } catch (err) {
        await flush();
        await sendToDeadLetter(this.dlq, this.settings.groupId, { topic: batch.topic, partition: batch.partition, message }, err, 1);
        this.metrics.kafkaMessages.inc({ topic: batch.topic, outcome: 'dead-lettered' });
        this.logger.error(
          { topic: batch.topic, partition: batch.partition, offset: message.offset, err: (err as Error).message },
          'message dead-lettered',
        );
        payload.resolveOffset(message.offset);
        continue;
      }
      group.push({ message, data });
      points += data.points.length;
      if (points >= this.settings.batchPoints) await flush();
    }
    await flush();
  }

  private async write(batches: TelemetryPointsData[]): Promise<void> {
    const rules = await this.rules.watching(batches.map((b) => b.deviceId));
    const { inserted } = await this.dataSource.transaction(async (manager) => {
      const result = await this.store.insert(manager, batches, [...new Set(rules.map((r) => r.device))]);
      await this.rules.evaluate(manager, rules, result.forRules);
      return result;
    });
    this.metrics.kafkaMessages.inc({ topic: this.settings.topic, outcome: 'applied' }, batches.length);
    const points = batches.reduce((n, b) => n + b.points.length, 0);
    if (inserted < points) this.logger.debug({ points, inserted }, 'some points were stored already (a redelivery)');
    // Redis holds the newest value per property; it can be rebuilt from the points.
    await this.latest
      .update(newestOf(batches))
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'latest values not updated'));
  }
}

/** The newest point of each device's property: all the latest values need of a batch. */
function newestOf(batches: TelemetryPointsData[]): StoredPoint[] {
  const newest = new Map<string, { tenantId: string; byProperty: Map<string, TelemetryPoint> }>();
  for (const b of batches) {
    let device = newest.get(b.deviceId);
    if (!device) newest.set(b.deviceId, (device = { tenantId: b.tenantId, byProperty: new Map<string, TelemetryPoint>() }));
    for (const p of b.points) {
      const seen = device.byProperty.get(p.property);
      if (!seen || seen.ts < p.ts) device.byProperty.set(p.property, p);
    }
  }
  return [...newest].flatMap(([deviceId, { tenantId, byProperty }]) => [...byProperty.values()].map((p) => ({ tenantId, deviceId, ...p })));
}

function pointsOf(message: KafkaMessage): TelemetryPointsData {
  const event = parseEnvelope(message.value);
  const data = event.data as Partial<TelemetryPointsData> | undefined;
  if (
    !data ||
    typeof data.deviceId !== 'string' ||
    typeof data.tenantId !== 'string' ||
    !Array.isArray(data.points) ||
    data.points.some(
      (p) =>
        typeof p !== 'object' ||
        p === null ||
        !Number.isSafeInteger(p.ts) ||
        typeof p.property !== 'string' ||
        p.value === undefined ||
        p.value === null,
    )
  ) {
    throw new MalformedEnvelopeError('the message is not a points event {deviceId, tenantId, points: [{ts, property, value}]}');
  }
  return data as TelemetryPointsData;
}
