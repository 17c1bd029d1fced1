import { randomUUID } from 'node:crypto';
import { EachBatchPayload, Kafka } from 'kafkajs';
import { EntityManager } from 'typeorm';
import {
  EventSources,
  MaintenancePredictedData,
  TelemetryEventTypes,
  TelemetryPointsData,
  Topics,
  WorkOrderEventData,
} from '@iip/contracts';
import { BatchConsumer, EventEnvelope, OutboxWriter, TopicProvisioner, createEnvelope, parseEnvelope } from '@iip/platform-kafka';
import { AppLogger } from '@iip/platform-observability';
import { EvaluationSettings, HealthEvaluation, MeasuredPoint, advance, emptyState } from './evaluation';
import { MaintenanceRepository, StateUpdate, WorkOrderRow } from './maintenance.repository';
import { ProfiledDevices } from './profiled-devices';

export interface EvaluatorSettings extends EvaluationSettings {
  groupId: string;
  topic: string;
}

/** A repeated prediction moves its work order's due date (and is announced as WorkOrderUpdated) only by this much or more. */
export const DUE_DATE_STEP_MS = 6 * 3_600_000;

/** The health of a device as GET /v1/devices/{id}/health shows it (kept with the evaluator's state). */
export interface HealthView {
  deviceId: string;
  score: number;
  zone: HealthEvaluation['zone'];
  vibrationRms: number;
  trend: { perDay: number; low: number; high: number; hourlyLevels: number } | null;
  remainingDays: { estimate: number; low: number; high: number } | null;
  bearingTemperature: number | null;
  operatingPoint: { flowRatio: number; efficiencyDrop: number | null } | null;
  asOf: string;
}

const round = (v: number, places = 4) => Math.round(v * 10 ** places) / 10 ** places;

export function healthViewOf(deviceId: string, e: HealthEvaluation): HealthView {
  return {
    deviceId,
    score: e.score,
    zone: e.zone,
    vibrationRms: round(e.trend?.level ?? e.vibration),
    trend: e.trend
      ? { perDay: round(e.trend.slope), low: round(e.trend.slopeLow), high: round(e.trend.slopeHigh), hourlyLevels: e.trend.n }
      : null,
    remainingDays: e.remaining
      ? { estimate: round(e.remaining.days, 3), low: round(e.remaining.low, 3), high: round(e.remaining.high, 3) }
      : null,
    bearingTemperature: e.bearingTemperature === undefined ? null : round(e.bearingTemperature, 2),
    operatingPoint: e.operating
      ? {
          flowRatio: round(e.operating.flowRatio),
          efficiencyDrop: e.operating.efficiencyDrop === undefined ? null : round(e.operating.efficiencyDrop),
        }
      : null,
    asOf: new Date(e.asOf).toISOString(),
  };
}

export function workOrderEventOf(o: WorkOrderRow): WorkOrderEventData {
  return {
    id: o.id,
    deviceId: o.deviceId,
    tenantId: o.tenantId,
    status: o.status,
    reason: o.reason,
    dueDate: new Date(o.dueDate).toISOString(),
    outcome: o.outcome,
    openedAt: new Date(o.openedAt).toISOString(),
    closedAt: o.closedAt ? new Date(o.closedAt).toISOString() : null,
    version: o.version,
  };
}

/**
 * Rotating-equipment health on telemetry's stream: its own consumer group on
 * iip.telemetry.points.v1, so the writer's hot path is untouched and the two scale apart. Only
 * devices with a profile are looked at (an in-memory set); their points advance a state kept in
 * PostgreSQL (robust hourly levels, the trend's window, the instant seen up to), and each closed
 * hour is evaluated. Predictions open or update the device's one open work order and are
 * announced through the outbox — all in one transaction with the state, before the offsets are
 * committed: a restart or a redelivery neither loses nor repeats a prediction.
 */
export class HealthEvaluator {
  private consumer?: BatchConsumer;
  /** Hourly evaluations made by this instance (the bench reads them from PostgreSQL instead). */
  evaluations = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicProvisioner,
    private readonly repository: MaintenanceRepository,
    private readonly outbox: OutboxWriter,
    private readonly profiles: ProfiledDevices,
    private readonly logger: AppLogger,
    private readonly settings: EvaluatorSettings,
  ) {}

  start(): void {
    this.consumer = new BatchConsumer(this.kafka, this.logger, {
      what: 'maintenance health evaluator',
      groupId: this.settings.groupId,
      topic: this.settings.topic,
      prepare: async () => {
        await this.profiles.start();
        await this.topics.ensure([this.settings.topic]);
      },
      eachBatch: (payload) => this.processBatch(payload),
    });
    this.consumer.start();
  }

  async stop(): Promise<void> {
    this.profiles.stop();
    await this.consumer?.stop();
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (!payload.isRunning() || payload.isStale()) return;
    await this.profiles.ready();
    const batches: TelemetryPointsData[] = [];
    for (const message of batch.messages) {
      // Points are keyed by device: a device without a profile is passed over unparsed (most of the stream).
      if (message.key && !this.profiles.get(message.key.toString())) continue;
      try {
        const data = parseEnvelope(message.value).data as TelemetryPointsData;
        // The writer dead-letters what is not a points event; here it is only passed over.
        if (typeof data?.deviceId === 'string' && Array.isArray(data.points) && this.profiles.get(data.deviceId)) batches.push(data);
      } catch {
        continue;
      }
    }
    if (batches.length > 0) await this.evaluate(batches);
    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary();
    await payload.heartbeat();
  }

  /** Applies the points of profiled devices (already filtered) in one transaction; returns the hourly evaluations made. */
  async evaluate(batches: readonly TelemetryPointsData[]): Promise<number> {
    const byDevice = new Map<string, MeasuredPoint[]>();
    for (const b of batches) {
      let list = byDevice.get(b.deviceId);
      if (!list) byDevice.set(b.deviceId, (list = []));
      for (const p of b.points) if (typeof p.value === 'number') list.push({ ts: p.ts, property: p.property, value: p.value });
    }
    const made = await this.repository.dataSource.transaction(async (manager) => {
      const states = await this.repository.lockStates(manager, [...byDevice.keys()]);
      const updates: StateUpdate[] = [];
      const predicted = new Map<string, { tenantId: string; evaluations: HealthEvaluation[] }>();
      let count = 0;
      for (const [deviceId, all] of byDevice) {
        const device = this.profiles.get(deviceId);
        if (!device) continue;
        const stored = states.get(deviceId);
        const lastTs = stored?.lastTs ?? -Infinity;
        // Only what is newer than the state has seen: a redelivery changes nothing; late points cannot change the past.
        const seen = new Set<string>();
        const points = all
          .filter((p) => {
            const key = `${p.property}@${p.ts}`;
            if (p.ts <= lastTs || seen.has(key)) return false;
            seen.add(key);
            return true;
          })
          .sort((a, b) => a.ts - b.ts);
        if (points.length === 0) continue;
        const state = stored?.state ?? emptyState();
        const evaluations = advance(state, device.profile, points, this.settings);
        count += evaluations.length;
        const newest = evaluations[evaluations.length - 1];
        updates.push({
          tenantId: device.tenantId,
          deviceId,
          state,
          lastTs: points[points.length - 1].ts,
          health: newest ? healthViewOf(deviceId, newest) : null,
          evaluations: evaluations.length,
        });
        const predictions = evaluations.filter((e) => e.prediction);
        if (predictions.length > 0) predicted.set(deviceId, { tenantId: device.tenantId, evaluations: predictions });
      }
      await this.repository.saveStates(manager, updates);
      if (predicted.size > 0) await this.workOrders(manager, predicted);
      return count;
    });
    this.evaluations += made;
    return made;
  }

  /** Each device's predictions open its work order or update the open one; all are announced. */
  private async workOrders(manager: EntityManager, predicted: Map<string, { tenantId: string; evaluations: HealthEvaluation[] }>) {
    const open = await this.repository.openOrders(manager, [...predicted.keys()]);
    const events: EventEnvelope[] = [];
    for (const [deviceId, { tenantId, evaluations }] of predicted) {
      const existing = open.get(deviceId);
      const id = existing?.id ?? randomUUID();
      const announced = evaluations.map((e) => predictionOf(deviceId, tenantId, id, e));
      const newest = announced[announced.length - 1];
      const due = new Date(newest.dueDate);
      const reason = (evaluations[evaluations.length - 1].prediction as { reason: string }).reason;
      let order: WorkOrderRow;
      let type: string | undefined;
      if (!existing) {
        order = await this.repository.openOrder(manager, {
          tenantId,
          id,
          deviceId,
          reason,
          dueDate: due,
          prediction: newest,
          predictions: announced.length,
        });
        type = TelemetryEventTypes.WorkOrderOpened;
      } else {
        const moved = Math.abs(due.getTime() - new Date(existing.dueDate).getTime()) >= DUE_DATE_STEP_MS;
        order = await this.repository.updateOrder(
          manager,
          { ...existing, reason: moved ? reason : existing.reason, dueDate: moved ? due : existing.dueDate, prediction: newest },
          announced.length,
          moved,
        );
        if (moved) type = TelemetryEventTypes.WorkOrderUpdated;
      }
      if (type)
        events.push(createEnvelope({ type, source: EventSources.telemetry, tenantId, subject: deviceId, data: workOrderEventOf(order) }));
      for (const data of announced)
        events.push(
          createEnvelope({
            type: TelemetryEventTypes.MaintenancePredicted,
            source: EventSources.telemetry,
            tenantId,
            subject: deviceId,
            data,
          }),
        );
    }
    await this.outbox.append(manager, Topics.telemetryMaintenance, events);
  }
}

function predictionOf(deviceId: string, tenantId: string, workOrderId: string, e: HealthEvaluation): MaintenancePredictedData {
  const remaining = e.remaining ?? { days: 0, low: 0, high: 0 };
  return {
    deviceId,
    tenantId,
    workOrderId,
    healthScore: e.score,
    zone: e.zone,
    vibrationRms: round(e.trend?.level ?? e.vibration),
    trendPerDay: round(e.trend?.slope ?? 0),
    remainingDays: round(remaining.days, 3),
    remainingDaysLow: round(remaining.low, 3),
    remainingDaysHigh: round(remaining.high, 3),
    dueDate: new Date((e.prediction as { dueDate: number }).dueDate).toISOString(),
    // The instant the prediction is as of (the end of the hour evaluated): remainingDays count from it.
    predictedAt: new Date(e.asOf).toISOString(),
  };
}
