import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AlarmEventData, AlarmState, EventSources, TelemetryEventTypes, Topics } from '@iip/contracts';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';
import { NewNumericPoint } from '../storage/points-store';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { NoDataParams, RuleRow, RuleState, step } from './rule-definitions';

export const TELEMETRY_OUTBOX = Symbol('TELEMETRY_OUTBOX');

/** A rule and one device it watches. */
export type WatchingRule = RuleRow & { device: string };

export const RULE_COLUMNS = `r.tenant_id AS "tenantId", r.id, r.name, r.device_id AS "deviceId", r.model_id AS "modelId", r.property, r.kind, r.params, r.severity, r.enabled`;

const ALARM_COLUMNS = `id, tenant_id AS "tenantId", rule_id AS "ruleId", device_id AS "deviceId", severity, state, message, value,
  raised_at AS "raisedAt", acknowledged_at AS "acknowledgedAt", cleared_at AS "clearedAt", shelved_until AS "shelvedUntil", version`;

interface AlarmRow {
  id: string;
  tenantId: string;
  ruleId: string;
  deviceId: string;
  severity: AlarmEventData['severity'];
  state: AlarmState;
  message: string;
  value: number | null;
  raisedAt: Date;
  acknowledgedAt: Date | null;
  clearedAt: Date | null;
  shelvedUntil: Date | null;
  version: number;
}

/**
 * Rules over stored points, evaluated in the writer's transaction with the points that went in
 * (a redelivered point is not new, so it is not evaluated twice), their state kept in
 * rule_states: a restart neither loses nor repeats an alarm. Alarms follow ISA-18.2.
 */
@Injectable()
export class RuleEngine {
  constructor(
    @Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(TELEMETRY_OUTBOX) private readonly outbox: OutboxWriter,
  ) {}

  /**
   * The (rule, device) pairs watching these devices, read once per batch before it is stored:
   * threshold and rate rules of the device or its model, and the no-data rules watching it
   * (data coming clears them).
   */
  watching(deviceIds: string[]): Promise<WatchingRule[]> {
    return this.dataSource.query<WatchingRule[]>(
      `SELECT ${RULE_COLUMNS}, d.id AS device FROM devices d JOIN rules r ON r.enabled AND r.kind <> 'no-data'
          AND (r.device_id = d.id OR (r.model_id = d.model_id AND d.tenant_path @> ARRAY[r.tenant_id]))
        WHERE d.id = ANY($1::uuid[])
       UNION ALL
       SELECT ${RULE_COLUMNS}, s.device_id AS device FROM rule_states s JOIN rules r ON r.id = s.rule_id AND r.tenant_id = s.tenant_id
        WHERE r.kind = 'no-data' AND s.device_id = ANY($1::uuid[])`,
      [[...new Set(deviceIds)]],
    );
  }

  /** Applies newly stored points to the rules watching them (from {@link watching}), in the caller's transaction. */
  async evaluate(manager: EntityManager, all: WatchingRule[], points: NewNumericPoint[]): Promise<void> {
    if (points.length === 0 || all.length === 0) return;
    const states = await this.lockStates(
      manager,
      all.map((r) => ({ tenantId: r.tenantId, ruleId: r.id, deviceId: r.device })),
    );
    const byDevice = new Map<string, NewNumericPoint[]>();
    for (const p of points) {
      let list = byDevice.get(p.deviceId);
      if (!list) byDevice.set(p.deviceId, (list = []));
      list.push(p);
    }
    for (const rule of all) {
      const mine = (byDevice.get(rule.device) ?? [])
        .filter((p) => p.property === rule.property)
        .sort((a, b) => a.ts.getTime() - b.ts.getTime());
      if (mine.length === 0) continue;
      const key = `${rule.id}/${rule.device}`;
      const stored = states.get(key);
      const state: RuleState = stored?.state ?? {};
      let lastTs = stored?.lastTs ?? -Infinity;
      for (const p of mine) {
        const ts = p.ts.getTime();
        if (ts <= lastTs) continue; // older than what the rule has seen: it cannot change the past
        lastTs = ts;
        const verdict = step(rule, state, ts, p.num);
        if (verdict && 'raise' in verdict) state.alarmId = await this.raise(manager, rule, rule.device, verdict.raise, verdict.value, p.ts);
        else if (verdict && 'clear' in verdict && state.alarmId) {
          await this.clear(manager, state.alarmId, p.ts);
          state.alarmId = undefined;
        }
      }
      await this.saveState(manager, rule.tenantId, rule.id, rule.device, state, lastTs);
    }
  }

  /**
   * No-data rules: a device silent longer than its rule allows gets one alarm (the rows are
   * locked and skipped by other instances doing the same).
   */
  async checkSilence(now = new Date()): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const due = await manager.query<(RuleRow & { device: string; state: RuleState; last_ts: Date | null })[]>(
        `SELECT ${RULE_COLUMNS}, s.device_id AS device, s.state, s.last_ts
           FROM rule_states s JOIN rules r ON r.id = s.rule_id AND r.tenant_id = s.tenant_id
          WHERE r.kind = 'no-data' AND r.enabled AND NOT (s.state ? 'alarmId')
            AND coalesce(s.last_ts, s.updated_at) < $1::timestamptz - make_interval(secs => (r.params->>'seconds')::float8)
          LIMIT 500
          FOR UPDATE OF s SKIP LOCKED`,
        [now],
      );
      for (const rule of due) {
        const seconds = (rule.params as NoDataParams).seconds;
        const state = {
          ...rule.state,
          alarmId: await this.raise(manager, rule, rule.device, `no ${rule.property} for ${seconds} s`, null, now),
        };
        await manager.query(
          `UPDATE rule_states SET state = $4, updated_at = now() WHERE tenant_id = $1 AND rule_id = $2 AND device_id = $3`,
          [rule.tenantId, rule.id, rule.device, state],
        );
      }
      return due.length;
    });
  }

  /** Starts watching a no-data rule's devices from now (a device that never sends raises it too). */
  async startSilenceWatch(manager: EntityManager, rule: RuleRow): Promise<void> {
    await manager.query(
      `INSERT INTO rule_states (tenant_id, rule_id, device_id, state, last_ts)
       SELECT $1, $2, d.id, '{}'::jsonb, now() FROM devices d
        WHERE d.status IN ('provisioned', 'active') AND (d.id = $3 OR (d.model_id = $4 AND d.tenant_path @> ARRAY[$1::uuid]))
       ON CONFLICT DO NOTHING`,
      [rule.tenantId, rule.id, rule.deviceId, rule.modelId],
    );
  }

  private async lockStates(
    manager: EntityManager,
    keys: { tenantId: string; ruleId: string; deviceId: string }[],
  ): Promise<Map<string, { state: RuleState; lastTs: number }>> {
    const rows = await manager.query<{ rule_id: string; device_id: string; state: RuleState; last_ts: Date | null }[]>(
      `SELECT rule_id, device_id, state, last_ts FROM rule_states
        WHERE (tenant_id, rule_id, device_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]))
        FOR UPDATE`,
      [keys.map((k) => k.tenantId), keys.map((k) => k.ruleId), keys.map((k) => k.deviceId)],
    );
    return new Map(
      rows.map((r) => [`${r.rule_id}/${r.device_id}`, { state: r.state, lastTs: r.last_ts ? r.last_ts.getTime() : -Infinity }]),
    );
  }

  private async saveState(manager: EntityManager, tenantId: string, ruleId: string, deviceId: string, state: RuleState, lastTs: number) {
    await manager.query(
      `INSERT INTO rule_states (tenant_id, rule_id, device_id, state, last_ts) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, rule_id, device_id) DO UPDATE SET state = EXCLUDED.state, last_ts = EXCLUDED.last_ts, updated_at = now()`,
      [tenantId, ruleId, deviceId, state, Number.isFinite(lastTs) ? new Date(lastTs) : null],
    );
  }

  private async raise(
    manager: EntityManager,
    rule: RuleRow,
    deviceId: string,
    message: string,
    value: number | null,
    at: Date,
  ): Promise<string> {
    const id = randomUUID();
    const [alarm] = await manager.query<AlarmRow[]>(
      `INSERT INTO alarms (tenant_id, id, rule_id, device_id, severity, state, message, value, raised_at)
       VALUES ($1, $2, $3, $4, $5, 'active-unacknowledged', $6, $7, $8) RETURNING ${ALARM_COLUMNS}`,
      [rule.tenantId, id, rule.id, deviceId, rule.severity, message, value, at],
    );
    await this.announce(manager, TelemetryEventTypes.AlarmRaised, alarm);
    return id;
  }

  private async clear(manager: EntityManager, alarmId: string, at: Date): Promise<void> {
    const rows = await manager.query<AlarmRow[]>(
      `WITH changed AS (
         UPDATE alarms SET cleared_at = $2, version = version + 1,
           state = CASE state WHEN 'active-acknowledged' THEN 'cleared' ELSE 'cleared-unacknowledged' END
          WHERE id = $1 AND state IN ('active-unacknowledged', 'active-acknowledged') RETURNING *)
       SELECT ${ALARM_COLUMNS} FROM changed`,
      [alarmId, at],
    );
    if (rows[0]) await this.announce(manager, TelemetryEventTypes.AlarmCleared, rows[0]);
  }

  async announce(manager: EntityManager, type: string, a: AlarmRow): Promise<void> {
    const data: AlarmEventData = {
      id: a.id,
      tenantId: a.tenantId,
      ruleId: a.ruleId,
      deviceId: a.deviceId,
      severity: a.severity,
      state: a.state,
      message: a.message,
      value: a.value,
      raisedAt: new Date(a.raisedAt).toISOString(),
      acknowledgedAt: a.acknowledgedAt ? new Date(a.acknowledgedAt).toISOString() : null,
      clearedAt: a.clearedAt ? new Date(a.clearedAt).toISOString() : null,
      shelvedUntil: a.shelvedUntil ? new Date(a.shelvedUntil).toISOString() : null,
      version: a.version,
    };
    await this.outbox.append(manager, Topics.telemetryAlarm, [
      createEnvelope({ type, source: EventSources.telemetry, tenantId: a.tenantId, subject: a.id, data }),
    ]);
  }
}

export { ALARM_COLUMNS };
export type { AlarmRow };
