import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AlarmState, TelemetryEventTypes } from '@iip/contracts';
import { Principal, canManage } from '@iip/platform-auth';
import { DevicesRepository } from '../devices/devices.repository';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { NoDataParams, RateParams, RuleKind, RuleRow, Severity, ThresholdParams } from './rule-definitions';
import { ALARM_COLUMNS, AlarmRow, RULE_COLUMNS, RuleEngine } from './rule-engine';

export interface NewRule {
  name: string;
  deviceId?: string;
  modelId?: string;
  property: string;
  kind: RuleKind;
  severity: Severity;
  threshold?: { op: ThresholdParams['op']; value: number; forSeconds?: number; hysteresis?: number };
  rate?: { perSecond: number; hysteresis?: number };
  noData?: { seconds: number };
}

export interface AlarmView {
  id: string;
  tenantId: string;
  ruleId: string;
  deviceId: string;
  severity: string;
  state: AlarmState;
  message: string;
  value: number | null;
  raisedAt: string;
  acknowledgedAt: string | null;
  clearedAt: string | null;
  shelvedUntil: string | null;
  version: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const viewOf = (a: AlarmRow): AlarmView => ({
  ...a,
  raisedAt: new Date(a.raisedAt).toISOString(),
  acknowledgedAt: iso(a.acknowledgedAt),
  clearedAt: iso(a.clearedAt),
  shelvedUntil: iso(a.shelvedUntil),
});

/** Rules a tenant sets on its devices or models, and the ISA-18.2 handling of the alarms they raise. */
@Injectable()
export class AlarmsService {
  constructor(
    @Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly devices: DevicesRepository,
    private readonly engine: RuleEngine,
  ) {}

  async createRule(actor: Principal, input: NewRule): Promise<RuleRow> {
    if ((input.deviceId === undefined) === (input.modelId === undefined)) {
      throw new TelemetryError(
        TelemetryErrorCode.PAYLOAD_INVALID,
        'A rule watches one device (deviceId) or every device of a model (modelId)',
      );
    }
    if (input.deviceId) {
      const device = await this.devices.find(input.deviceId);
      if (!device || !canManage(actor.tenant, { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath })) {
        throw TelemetryError.deviceNotFound(input.deviceId);
      }
    }
    const params = paramsOf(input);
    return this.dataSource.transaction(async (manager) => {
      const [rule] = await manager.query<RuleRow[]>(
        `INSERT INTO rules AS r (tenant_id, id, name, device_id, model_id, property, kind, params, severity)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${RULE_COLUMNS}`,
        [
          actor.tenant.id,
          randomUUID(),
          input.name,
          input.deviceId ?? null,
          input.modelId ?? null,
          input.property,
          input.kind,
          params,
          input.severity,
        ],
      );
      if (rule.kind === 'no-data') await this.engine.startSilenceWatch(manager, rule);
      return rule;
    });
  }

  async listRules(actor: Principal): Promise<RuleRow[]> {
    return this.dataSource.query<RuleRow[]>(`SELECT ${RULE_COLUMNS} FROM rules r WHERE r.tenant_id = $1 ORDER BY r.created_at, r.id`, [
      actor.tenant.id,
    ]);
  }

  async deleteRule(actor: Principal, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const deleted = await manager.query<{ id: string }[]>(
        `WITH d AS (DELETE FROM rules WHERE tenant_id = $1 AND id = $2 RETURNING id) SELECT id FROM d`,
        [actor.tenant.id, id],
      );
      if (deleted.length === 0) throw new TelemetryError(TelemetryErrorCode.RULE_NOT_FOUND, `Rule ${id} was not found`);
      await manager.query(`DELETE FROM rule_states WHERE tenant_id = $1 AND rule_id = $2`, [actor.tenant.id, id]);
    });
  }

  /** Alarms of the actor's tenant and its subtree, newest first. */
  async list(actor: Principal, filter: { state?: AlarmState; deviceId?: string; limit: number }): Promise<AlarmView[]> {
    const rows = await this.dataSource.query<AlarmRow[]>(
      `SELECT ${ALARM_COLUMNS} FROM alarms a
        WHERE a.tenant_id IN (SELECT id FROM tenants WHERE id = $1 OR path @> ARRAY[$1::uuid] OR $4)
          AND ($2::text IS NULL OR a.state = $2) AND ($3::uuid IS NULL OR a.device_id = $3)
        ORDER BY a.raised_at DESC, a.id LIMIT $5`,
      [actor.tenant.id, filter.state ?? null, filter.deviceId ?? null, actor.tenant.kind === 'platform', filter.limit],
    );
    return rows.map(viewOf);
  }

  /** Acknowledge (ISA-18.2): active → active-acknowledged; cleared-unacknowledged → cleared. */
  acknowledge(actor: Principal, id: string): Promise<AlarmView> {
    return this.change(actor, id, TelemetryEventTypes.AlarmAcknowledged, (a) => {
      if (a.state === 'active-unacknowledged') return `state = 'active-acknowledged'`;
      if (a.state === 'cleared-unacknowledged') return `state = 'cleared'`;
      return undefined;
    });
  }

  /** Shelve: the alarm stays as it is but is not annunciated until `minutes` have passed. */
  shelve(actor: Principal, id: string, minutes: number): Promise<AlarmView> {
    return this.change(actor, id, TelemetryEventTypes.AlarmShelved, (a) =>
      a.state === 'cleared' ? undefined : `shelved_until = now() + make_interval(mins => ${Math.floor(minutes)})`,
    );
  }

  private async change(actor: Principal, id: string, type: string, set: (a: AlarmRow) => string | undefined): Promise<AlarmView> {
    return this.dataSource.transaction(async (manager) => {
      const [alarm] = await manager.query<AlarmRow[]>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = $1 FOR UPDATE`, [id]);
      const owner = alarm
        ? (await manager.query<{ path: string[]; kind: string }[]>(`SELECT path, kind FROM tenants WHERE id = $1`, [alarm.tenantId]))[0]
        : undefined;
      if (!alarm || !owner || !canManage(actor.tenant, { id: alarm.tenantId, kind: owner.kind as 'group', path: owner.path })) {
        throw new TelemetryError(TelemetryErrorCode.ALARM_NOT_FOUND, `Alarm ${id} was not found`);
      }
      const assignment = set(alarm);
      if (!assignment) {
        throw new TelemetryError(
          TelemetryErrorCode.ALARM_TRANSITION_NOT_ALLOWED,
          `Alarm ${id} is ${alarm.state}; that does not apply to it`,
        );
      }
      const ack = type === TelemetryEventTypes.AlarmAcknowledged ? `, acknowledged_at = now(), acknowledged_by = $2` : '';
      const [changed] = await manager.query<AlarmRow[]>(
        `WITH c AS (UPDATE alarms SET ${assignment}${ack}, version = version + 1 WHERE id = $1 ${ack ? '' : 'AND $2::text IS NOT NULL'} RETURNING *)
         SELECT ${ALARM_COLUMNS} FROM c`,
        [id, actor.clientId],
      );
      await this.engine.announce(manager, type, changed);
      return viewOf(changed);
    });
  }
}

function paramsOf(input: NewRule): ThresholdParams | RateParams | NoDataParams {
  const missing = (what: string) => new TelemetryError(TelemetryErrorCode.PAYLOAD_INVALID, `A ${input.kind} rule needs ${what}`);
  switch (input.kind) {
    case 'threshold':
      if (!input.threshold) throw missing('threshold {op, value, forSeconds?, hysteresis?}');
      return {
        op: input.threshold.op,
        value: input.threshold.value,
        forSeconds: input.threshold.forSeconds ?? 0,
        hysteresis: input.threshold.hysteresis ?? 0,
      };
    case 'rate':
      if (!input.rate) throw missing('rate {perSecond, hysteresis?}');
      return { perSecond: input.rate.perSecond, hysteresis: input.rate.hysteresis ?? 0 };
    case 'no-data':
      if (!input.noData) throw missing('noData {seconds}');
      return { seconds: input.noData.seconds };
  }
}
