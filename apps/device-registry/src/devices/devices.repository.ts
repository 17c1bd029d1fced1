import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DeviceLifecycleState } from '@iip/contracts';
import { TenantKind, TenantRef } from '@iip/platform-auth';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { CompiledQuery } from '../fleet/fleet-query';
import { EquipmentProfile } from './dto/device.dto';

export interface DeviceRow {
  tenantId: string;
  id: string;
  tenantPath: string[];
  tenantKind: TenantKind;
  name: string;
  manufacturer: string;
  serial: string;
  modelTenantId: string;
  modelId: string;
  modelVersion: number;
  modelName: string;
  status: DeviceLifecycleState;
  handleSuffix: string;
  handle: string | null;
  tags: Record<string, string>;
  gatewayId: string | null;
  profile: EquipmentProfile;
  /** The device this one replaced in a renewal project, and the one that replaced it. */
  replaces: string | null;
  replacedBy: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A device as inserted: what the registry, not the database or identifier, decides. */
export type NewDeviceRow = Omit<DeviceRow, 'modelName' | 'version' | 'createdAt' | 'updatedAt' | 'handle' | 'replaces' | 'replacedBy'>;

/** A device row's columns; `modelName` is the model's name expression (NULL when it is read apart). */
const columns = (
  modelName: string,
) => `d.tenant_id AS "tenantId", d.id, d.tenant_path AS "tenantPath", d.tenant_kind AS "tenantKind", d.name, d.manufacturer,
  d.serial, d.model_tenant_id AS "modelTenantId", d.model_id AS "modelId", d.model_version AS "modelVersion", ${modelName} AS "modelName",
  d.status, d.handle_suffix AS "handleSuffix", d.handle, d.tags, d.gateway_id AS "gatewayId",
  jsonb_strip_nulls(jsonb_build_object('category', d.category, 'commissionedOn', to_char(d.commissioned_on, 'YYYY-MM-DD'),
    'ratedPowerKw', d.rated_power_kw::float8, 'efficiencyGrade', d.efficiency_grade, 'ncCapable', d.nc_capable,
    'keyProcess', d.key_process, 'criticality', d.criticality,
    'belowAccessLevel', CASE WHEN d.below_access_level THEN true END)) AS profile,
  d.replaces, d.replaced_by AS "replacedBy", d.version, d.created_at AS "createdAt", d.updated_at AS "updatedAt"`;
const COLUMNS = columns('m.name');
const FROM = `devices d JOIN thing_models m ON m.tenant_id = d.model_tenant_id AND m.id = d.model_id`;
/**
 * A device's twin, looked up per candidate device (OFFSET 0 keeps PostgreSQL from turning it
 * into a join of all twins): the other predicates narrow the devices first, by their indexes.
 */
const TWIN_JOIN = ` LEFT JOIN LATERAL (SELECT tw.reported, tw.desired FROM twins tw WHERE tw.tenant_id = d.tenant_id AND tw.device_id = d.id OFFSET 0) t ON true`;

/**
 * Which devices a tenant manages: the platform all, a group or subsidiary its subtree's
 * (its id is on their paths), a park or member only its own. `$1` is the actor's id.
 */
function managedScope(actor: TenantRef): string {
  if (actor.kind === 'platform') return 'true';
  if (actor.kind === 'group' || actor.kind === 'subsidiary') return `d.tenant_path @> ARRAY[$1::uuid]`;
  return `d.tenant_id = $1::uuid`;
}

/** Which devices a tenant may count: what it manages, and for a park its members' devices as well. */
function countedScope(actor: TenantRef): string {
  return actor.kind === 'park' ? `d.tenant_path @> ARRAY[$1::uuid]` : managedScope(actor);
}

/** The only place that queries devices. */
@Injectable()
export class DevicesRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Many devices in one statement; rows whose (tenant, manufacturer, serial) exists already are skipped. Returns the ids inserted. */
  async insertMany(manager: EntityManager, rows: NewDeviceRow[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const col = <T>(f: (r: (typeof rows)[number]) => T) => rows.map(f);
    const profiles = rows.map((r) => profileParams(r.profile));
    const inserted = await manager.query<{ id: string }[]>(
      `INSERT INTO devices (tenant_id, id, tenant_path, tenant_kind, name, manufacturer, serial, model_tenant_id, model_id, model_version,
         status, handle_suffix, tags, gateway_id, category, commissioned_on, rated_power_kw, efficiency_grade, nc_capable, key_process, criticality,
         below_access_level)
       SELECT x.tenant_id, x.id, $3::uuid[], $4, x.name, x.manufacturer, x.serial, x.model_tenant_id, x.model_id, x.model_version, x.status,
              x.handle_suffix, x.tags, x.gateway_id, x.category, x.commissioned_on, x.rated_power_kw, x.efficiency_grade, x.nc_capable, x.key_process, x.criticality,
              x.below_access_level
         FROM unnest($1::uuid[], $2::uuid[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::uuid[], $10::int[], $11::text[], $12::text[], $13::jsonb[],
                     $14::uuid[], $15::text[], $16::date[], $17::numeric[], $18::smallint[], $19::boolean[], $20::boolean[], $21::text[], $22::boolean[])
           AS x(tenant_id, id, name, manufacturer, serial, model_tenant_id, model_id, model_version, status, handle_suffix, tags, gateway_id,
                category, commissioned_on, rated_power_kw, efficiency_grade, nc_capable, key_process, criticality, below_access_level)
       ON CONFLICT (tenant_id, manufacturer, serial) DO NOTHING RETURNING id`,
      [
        col((r) => r.tenantId),
        col((r) => r.id),
        rows[0].tenantPath,
        rows[0].tenantKind,
        col((r) => r.name),
        col((r) => r.manufacturer),
        col((r) => r.serial),
        col((r) => r.modelTenantId),
        col((r) => r.modelId),
        col((r) => r.modelVersion),
        col((r) => r.status),
        col((r) => r.handleSuffix),
        col((r) => JSON.stringify(r.tags)),
        col((r) => r.gatewayId),
        ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => profiles.map((p) => p[i])),
      ],
    );
    return new Set(inserted.map((r) => r.id));
  }

  /** Ids of the devices a tenant has with these (manufacturer, serial) pairs. */
  async idsBySerial(
    manager: EntityManager,
    tenantId: string,
    keys: { manufacturer: string; serial: string }[],
  ): Promise<Map<string, string>> {
    const rows = await manager.query<{ id: string; manufacturer: string; serial: string }[]>(
      `SELECT d.id, d.manufacturer, d.serial FROM devices d JOIN unnest($2::text[], $3::text[]) AS k(manufacturer, serial)
         ON d.manufacturer = k.manufacturer AND d.serial = k.serial WHERE d.tenant_id = $1`,
      [tenantId, keys.map((k) => k.manufacturer), keys.map((k) => k.serial)],
    );
    return new Map(rows.map((r) => [`${r.manufacturer}\u0000${r.serial}`, r.id]));
  }

  async find(id: string, manager?: EntityManager, lock = false): Promise<DeviceRow | undefined> {
    const rows = await (manager ?? this.dataSource).query<DeviceRow[]>(
      `SELECT ${COLUMNS} FROM ${FROM}
        WHERE d.id = $1${lock ? ' FOR UPDATE OF d' : ''}`,
      [id],
    );
    return rows[0];
  }

  /** Several devices by id, in id order (locked, in a transaction, when `lock`: always in that order, so two callers cannot deadlock). */
  async findMany(manager: EntityManager, ids: string[], lock = false): Promise<DeviceRow[]> {
    return manager.query<DeviceRow[]>(
      `SELECT ${COLUMNS} FROM ${FROM} WHERE d.id = ANY($1::uuid[]) ORDER BY d.id${lock ? ' FOR UPDATE OF d' : ''}`,
      [ids],
    );
  }

  /**
   * Devices in `scope` matching a compiled fleet query, in id order (the query's parameters
   * follow $1–$3). Models' names are read for the page afterwards: joined in, they would lead
   * the planner away from the devices' own indexes.
   */
  async query(actor: TenantRef, query: CompiledQuery, limit: number, after?: string): Promise<DeviceRow[]> {
    const rows = await this.dataSource.query<DeviceRow[]>(
      `SELECT ${columns('NULL::text')} FROM devices d${query.usesTwin ? TWIN_JOIN : ''}
        WHERE ${managedScope(actor)} AND ($2::uuid IS NULL OR d.id > $2) AND (${query.where})
        ORDER BY d.id LIMIT $3`,
      [actor.id, after ?? null, limit, ...query.params],
    );
    const ids = [...new Set(rows.map((r) => r.modelId))];
    if (ids.length > 0) {
      const names = new Map(
        (
          await this.dataSource.query<{ id: string; name: string }[]>(`SELECT id, name FROM thing_models WHERE id = ANY($1::uuid[])`, [ids])
        ).map((m) => [m.id, m.name]),
      );
      for (const r of rows) r.modelName = names.get(r.modelId) ?? '';
    }
    return rows;
  }

  /** Counts of the devices a tenant may count that match a compiled query, grouped by `groupBy` (parameters follow $1). */
  async queryCounts(
    actor: TenantRef,
    query: CompiledQuery,
    groupBy: string | undefined,
  ): Promise<{ value: string | null; count: number }[]> {
    const group = groupBy ?? `'all'`;
    return this.dataSource.query(
      `SELECT ${group}::text AS value, count(*)::int AS count FROM devices d${query.usesTwin ? TWIN_JOIN : ''}
        WHERE ${countedScope(actor)} AND (${query.where}) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1000`,
      [actor.id, ...query.params],
    );
  }

  async countActive(manager: EntityManager, tenantId: string): Promise<number> {
    const [{ n }] = await manager.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM devices WHERE tenant_id = $1 AND status <> 'decommissioned'`,
      [tenantId],
    );
    return n;
  }

  async update(
    manager: EntityManager,
    d: Pick<DeviceRow, 'tenantId' | 'id' | 'name' | 'tags' | 'gatewayId' | 'profile' | 'status' | 'version'>,
  ): Promise<void> {
    await manager.query(
      `UPDATE devices SET name = $3, tags = $4::jsonb, gateway_id = $5, category = $6, commissioned_on = $7, rated_power_kw = $8,
         efficiency_grade = $9, nc_capable = $10, key_process = $11, criticality = $12, below_access_level = $13, status = $14, version = $15,
         updated_at = now()
       WHERE tenant_id = $1 AND id = $2`,
      [d.tenantId, d.id, d.name, JSON.stringify(d.tags), d.gatewayId, ...profileParams(d.profile), d.status, d.version],
    );
  }

  /** Stores the identifier identifier announced for the device; true when it was not known yet (or was another). */
  async setHandle(manager: EntityManager, id: string, handle: string): Promise<boolean> {
    const [, changed] = await manager.query<[unknown, number]>(
      `UPDATE devices SET handle = $2 WHERE id = $1 AND handle IS DISTINCT FROM $2`,
      [id, handle],
    );
    return changed > 0;
  }

  /** Records a renewal replacement on both devices: `old` is replaced by `replacement`. */
  async link(
    manager: EntityManager,
    old: Pick<DeviceRow, 'tenantId' | 'id'>,
    replacement: Pick<DeviceRow, 'tenantId' | 'id'>,
  ): Promise<void> {
    await manager.query(`UPDATE devices SET replaced_by = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [
      old.tenantId,
      old.id,
      replacement.id,
    ]);
    await manager.query(`UPDATE devices SET replaces = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [
      replacement.tenantId,
      replacement.id,
      old.id,
    ]);
  }

  /** The handles of these devices (null while identifier has not announced one). */
  async handlesOf(manager: EntityManager, ids: string[]): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const rows = await manager.query<{ id: string; handle: string | null }[]>(`SELECT id, handle FROM devices WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
    return new Map(rows.map((r) => [r.id, r.handle]));
  }
}

function profileParams(p: EquipmentProfile): unknown[] {
  return [
    p.category ?? null,
    p.commissionedOn ?? null,
    p.ratedPowerKw ?? null,
    p.efficiencyGrade ?? null,
    p.ncCapable ?? false,
    p.keyProcess ?? false,
    p.criticality ?? null,
    p.belowAccessLevel ?? false,
  ];
}
