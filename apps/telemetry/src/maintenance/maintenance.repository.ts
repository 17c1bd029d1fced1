import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { MaintenancePredictedData, WorkOrderOutcome, WorkOrderStatus } from '@iip/contracts';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { DeviceHealthState, HealthProfile } from './evaluation';
import { BearingLimits, BestEfficiencyPoint, Foundation, MachineGroup } from './health';

/** A profile as stored: on one device, or on every device of a model within the profile tenant's subtree. */
export interface ProfileRow {
  tenantId: string;
  targetId: string;
  target: 'device' | 'model';
  modelVersion: number;
  properties: HealthProfile['properties'];
  conversions: HealthProfile['conversions'];
  machineGroup: MachineGroup;
  foundation: Foundation;
  bestEfficiencyPoint: BestEfficiencyPoint | null;
  bearingLimits: BearingLimits | null;
  version: number;
  updatedAt: Date;
}

const PROFILE_COLUMNS = `p.tenant_id AS "tenantId", p.target_id AS "targetId", p.target, p.model_version AS "modelVersion", p.properties, p.conversions,
  p.machine_group AS "machineGroup", p.foundation, p.best_efficiency_point AS "bestEfficiencyPoint", p.bearing_limits AS "bearingLimits",
  p.version, p.updated_at AS "updatedAt"`;

export interface WorkOrderRow {
  tenantId: string;
  id: string;
  deviceId: string;
  status: WorkOrderStatus;
  reason: string;
  dueDate: Date;
  prediction: MaintenancePredictedData;
  predictions: number;
  outcome: WorkOrderOutcome | null;
  notes: string | null;
  openedAt: Date;
  closedAt: Date | null;
  version: number;
}

export const WORK_ORDER_COLUMNS = `w.tenant_id AS "tenantId", w.id, w.device_id AS "deviceId", w.status, w.reason, w.due_date AS "dueDate", w.prediction,
  w.predictions, w.outcome, w.notes, w.opened_at AS "openedAt", w.closed_at AS "closedAt", w.version`;

export interface StateRow {
  tenantId: string;
  deviceId: string;
  state: DeviceHealthState;
  lastTs: number;
}

/** What an evaluation leaves of a device: its state, the newest instant seen, its health (when evaluated) and how many evaluations it had. */
export interface StateUpdate {
  tenantId: string;
  deviceId: string;
  state: DeviceHealthState;
  lastTs: number;
  health: object | null;
  evaluations: number;
}

/** The only place that queries the maintenance tables. */
@Injectable()
export class MaintenanceRepository {
  constructor(@Inject(TELEMETRY_DATA_SOURCE) readonly dataSource: DataSource) {}

  async saveProfile(p: Omit<ProfileRow, 'version' | 'updatedAt'>): Promise<ProfileRow> {
    const [row] = await this.dataSource.query<ProfileRow[]>(
      `INSERT INTO maintenance_profiles AS p (tenant_id, target_id, target, model_version, properties, conversions, machine_group, foundation,
         best_efficiency_point, bearing_limits)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id, target_id) DO UPDATE SET target = EXCLUDED.target, model_version = EXCLUDED.model_version,
         properties = EXCLUDED.properties, conversions = EXCLUDED.conversions, machine_group = EXCLUDED.machine_group,
         foundation = EXCLUDED.foundation, best_efficiency_point = EXCLUDED.best_efficiency_point, bearing_limits = EXCLUDED.bearing_limits,
         version = p.version + 1, updated_at = now()
       RETURNING ${PROFILE_COLUMNS}`,
      [
        p.tenantId,
        p.targetId,
        p.target,
        p.modelVersion,
        p.properties,
        p.conversions,
        p.machineGroup,
        p.foundation,
        p.bestEfficiencyPoint,
        p.bearingLimits,
      ],
    );
    return row;
  }

  async findProfile(tenantId: string, targetId: string): Promise<ProfileRow | undefined> {
    const rows = await this.dataSource.query<ProfileRow[]>(
      `SELECT ${PROFILE_COLUMNS} FROM maintenance_profiles p WHERE p.tenant_id = $1 AND p.target_id = $2`,
      [tenantId, targetId],
    );
    return rows[0];
  }

  async deleteProfile(tenantId: string, targetId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH d AS (DELETE FROM maintenance_profiles WHERE tenant_id = $1 AND target_id = $2 RETURNING 1) SELECT * FROM d`,
      [tenantId, targetId],
    );
    return rows.length > 0;
  }

  /** Changes whenever a profile is put or removed (cheap: the table holds one row per profile). */
  async profilesStamp(): Promise<string> {
    const [row] = await this.dataSource.query<{ stamp: string }[]>(
      `SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') AS stamp FROM maintenance_profiles`,
    );
    return row.stamp;
  }

  /**
   * Every device a profile applies to, with the profile that does: its own, else its model's
   * set by the nearest tenant above it. Devices suspended or decommissioned are left out.
   */
  async profiledDevices(): Promise<(ProfileRow & { deviceId: string; deviceTenantId: string })[]> {
    return this.dataSource.query(
      `SELECT DISTINCT ON (x."deviceId") x.* FROM (
         SELECT ${PROFILE_COLUMNS}, d.id AS "deviceId", d.tenant_id AS "deviceTenantId", 0 AS rank
           FROM maintenance_profiles p JOIN devices d ON d.id = p.target_id
          WHERE p.target = 'device' AND d.status IN ('provisioned', 'active')
         UNION ALL
         SELECT ${PROFILE_COLUMNS}, d.id, d.tenant_id, cardinality(d.tenant_path) - array_position(d.tenant_path, p.tenant_id) + 1
           FROM maintenance_profiles p JOIN devices d ON d.model_id = p.target_id AND d.tenant_path @> ARRAY[p.tenant_id]
          WHERE p.target = 'model' AND d.status IN ('provisioned', 'active')
       ) x ORDER BY x."deviceId", x.rank`,
    );
  }

  /** The evaluator's states of these devices, locked for the caller's transaction. */
  async lockStates(manager: EntityManager, deviceIds: string[]): Promise<Map<string, StateRow>> {
    const rows = await manager.query<{ tenantId: string; deviceId: string; state: DeviceHealthState; lastTs: Date | null }[]>(
      `SELECT tenant_id AS "tenantId", device_id AS "deviceId", state, last_ts AS "lastTs" FROM maintenance_states
        WHERE device_id = ANY($1::uuid[]) ORDER BY device_id FOR UPDATE`,
      [deviceIds],
    );
    return new Map(rows.map((r) => [r.deviceId, { ...r, lastTs: r.lastTs ? r.lastTs.getTime() : -Infinity }]));
  }

  async saveStates(manager: EntityManager, updates: StateUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await manager.query(
      `INSERT INTO maintenance_states AS s (tenant_id, device_id, state, last_ts, health, evaluations, evaluated_at)
       SELECT t, d, st, ts, h, n, CASE WHEN h IS NULL THEN NULL ELSE now() END
         FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[], $4::timestamptz[], $5::jsonb[], $6::int[]) AS u(t, d, st, ts, h, n)
       ON CONFLICT (tenant_id, device_id) DO UPDATE SET state = EXCLUDED.state, last_ts = EXCLUDED.last_ts,
         health = coalesce(EXCLUDED.health, s.health), evaluations = s.evaluations + EXCLUDED.evaluations,
         evaluated_at = coalesce(EXCLUDED.evaluated_at, s.evaluated_at)`,
      [
        updates.map((u) => u.tenantId),
        updates.map((u) => u.deviceId),
        updates.map((u) => JSON.stringify(u.state)),
        updates.map((u) => (Number.isFinite(u.lastTs) ? new Date(u.lastTs) : null)),
        updates.map((u) => (u.health ? JSON.stringify(u.health) : null)),
        updates.map((u) => u.evaluations),
      ],
    );
  }

  /** Forgets a device's trend (its hourly levels): a machine just maintained starts a new one. */
  async resetTrend(manager: EntityManager, deviceId: string): Promise<void> {
    await manager.query(
      `UPDATE maintenance_states SET state = jsonb_set(jsonb_set(state, '{levels}', '[]'), '{streak}', '0') WHERE device_id = $1`,
      [deviceId],
    );
  }

  async health(deviceId: string): Promise<{ health: Record<string, unknown>; evaluatedAt: Date; evaluations: string } | undefined> {
    const rows = await this.dataSource.query<{ health: Record<string, unknown>; evaluatedAt: Date; evaluations: string }[]>(
      `SELECT health, evaluated_at AS "evaluatedAt", evaluations FROM maintenance_states WHERE device_id = $1 AND health IS NOT NULL`,
      [deviceId],
    );
    return rows[0];
  }

  async openOrders(manager: EntityManager, deviceIds: string[]): Promise<Map<string, WorkOrderRow>> {
    const rows = await manager.query<WorkOrderRow[]>(
      `SELECT ${WORK_ORDER_COLUMNS} FROM work_orders w WHERE w.device_id = ANY($1::uuid[]) AND w.status <> 'closed' FOR UPDATE`,
      [deviceIds],
    );
    return new Map(rows.map((r) => [r.deviceId, r]));
  }

  async openOrder(
    manager: EntityManager,
    o: Pick<WorkOrderRow, 'tenantId' | 'id' | 'deviceId' | 'reason' | 'dueDate' | 'prediction' | 'predictions'>,
  ) {
    const [row] = await manager.query<WorkOrderRow[]>(
      `INSERT INTO work_orders AS w (tenant_id, id, device_id, status, reason, due_date, prediction, predictions)
       VALUES ($1, $2, $3, 'open', $4, $5, $6, $7) RETURNING ${WORK_ORDER_COLUMNS}`,
      [o.tenantId, o.id, o.deviceId, o.reason, o.dueDate, o.prediction, o.predictions],
    );
    return row;
  }

  /** A repeated prediction: the newest one is kept; `announce` when the due date moved (then the version counts up). */
  async updateOrder(manager: EntityManager, o: WorkOrderRow, added: number, announce: boolean): Promise<WorkOrderRow> {
    const [row] = await manager.query<WorkOrderRow[]>(
      `WITH w AS (UPDATE work_orders SET reason = $2, due_date = $3, prediction = $4, predictions = predictions + $5,
         version = version + CASE WHEN $6::boolean THEN 1 ELSE 0 END
        WHERE id = $1 RETURNING *) SELECT ${WORK_ORDER_COLUMNS} FROM w`,
      [o.id, o.reason, o.dueDate, o.prediction, added, announce],
    );
    return row;
  }

  async lockOrder(manager: EntityManager, id: string): Promise<(WorkOrderRow & { tenantPath: string[]; tenantKind: string }) | undefined> {
    const rows = await manager.query<(WorkOrderRow & { tenantPath: string[]; tenantKind: string })[]>(
      `SELECT ${WORK_ORDER_COLUMNS}, t.path AS "tenantPath", t.kind AS "tenantKind"
         FROM work_orders w JOIN tenants t ON t.id = w.tenant_id WHERE w.id = $1 FOR UPDATE OF w`,
      [id],
    );
    return rows[0];
  }

  async closeOrder(manager: EntityManager, id: string, outcome: WorkOrderOutcome, notes: string | null, by: string): Promise<WorkOrderRow> {
    const [row] = await manager.query<WorkOrderRow[]>(
      `WITH w AS (UPDATE work_orders SET status = 'closed', outcome = $2, notes = $3, closed_by = $4, closed_at = now(), version = version + 1
        WHERE id = $1 RETURNING *) SELECT ${WORK_ORDER_COLUMNS} FROM w`,
      [id, outcome, notes, by],
    );
    return row;
  }

  /** Work orders of a tenant's subtree (every tenant's for the platform operator), newest first. */
  async listOrders(
    actor: { tenantId: string; platform: boolean },
    filter: { status?: WorkOrderStatus; deviceId?: string; limit: number },
  ): Promise<WorkOrderRow[]> {
    return this.dataSource.query<WorkOrderRow[]>(
      `SELECT ${WORK_ORDER_COLUMNS} FROM work_orders w
        WHERE w.tenant_id IN (SELECT id FROM tenants WHERE id = $1 OR path @> ARRAY[$1::uuid] OR $4)
          AND ($2::text IS NULL OR w.status = $2) AND ($3::uuid IS NULL OR w.device_id = $3)
        ORDER BY w.opened_at DESC, w.id LIMIT $5`,
      [actor.tenantId, filter.status ?? null, filter.deviceId ?? null, actor.platform, filter.limit],
    );
  }

  async findOrder(id: string): Promise<(WorkOrderRow & { tenantPath: string[]; tenantKind: string }) | undefined> {
    const rows = await this.dataSource.query<(WorkOrderRow & { tenantPath: string[]; tenantKind: string })[]>(
      `SELECT ${WORK_ORDER_COLUMNS}, t.path AS "tenantPath", t.kind AS "tenantKind" FROM work_orders w JOIN tenants t ON t.id = w.tenant_id WHERE w.id = $1`,
      [id],
    );
    return rows[0];
  }
}
