import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { FundingSource, RENEWAL_PROJECT_STATUSES, RenewalProjectStatus } from '@iip/contracts';
import { TenantKind, TenantRef } from '@iip/platform-auth';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';

export interface ProjectRow {
  tenantId: string;
  id: string;
  /** The project's tenant's place in the tree, as the registry knows it now. */
  tenantPath: string[];
  tenantKind: TenantKind;
  name: string;
  description: string | null;
  status: RenewalProjectStatus;
  estimatedInvestmentCny: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProjectStep {
  status: RenewalProjectStatus;
  at: string;
  by: string;
}

export interface ReplacementRow {
  projectId: string;
  oldDeviceId: string;
  newDeviceId: string;
  oldHandle: string | null;
  newHandle: string | null;
  at: string;
  by: string;
}

/** A project with everything it holds. */
export interface ProjectRecord extends ProjectRow {
  deviceIds: string[];
  modelIds: string[];
  funding: { source: FundingSource; amountCny: number }[];
  actualInvestments: { year: number; amountCny: number }[];
  history: ProjectStep[];
  replacements: ReplacementRow[];
}

const ISO = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const CHILD = (table: string) => `FROM ${table} x WHERE x.tenant_id = p.tenant_id AND x.project_id = p.id`;
const STEP_ORDER = `ARRAY[${RENEWAL_PROJECT_STATUSES.map((s) => `'${s}'`).join(', ')}]`;

const ROW_COLUMNS = `p.tenant_id AS "tenantId", p.id, t.path AS "tenantPath", t.kind AS "tenantKind", p.name, p.description, p.status,
  p.estimated_investment_cny::float8 AS "estimatedInvestmentCny", p.version, p.created_at AS "createdAt", p.updated_at AS "updatedAt"`;
const RECORD_COLUMNS = `${ROW_COLUMNS},
  (SELECT coalesce(array_agg(x.device_id ORDER BY x.device_id), '{}') ${CHILD('renewal_project_devices')}) AS "deviceIds",
  (SELECT coalesce(array_agg(x.model_id ORDER BY x.model_id), '{}') ${CHILD('renewal_project_models')}) AS "modelIds",
  (SELECT coalesce(json_agg(json_build_object('source', x.source, 'amountCny', x.amount_cny::float8)
     ORDER BY array_position(ARRAY['central-budget', 'technical-renewal-reloan', 'tax-incentive', 'own-funds'], x.source)), '[]')
     ${CHILD('renewal_project_funding')}) AS funding,
  (SELECT coalesce(json_agg(json_build_object('year', x.year, 'amountCny', x.amount_cny::float8) ORDER BY x.year), '[]')
     ${CHILD('renewal_project_investments')}) AS "actualInvestments",
  (SELECT coalesce(json_agg(json_build_object('status', x.status, 'at', ${ISO('x.at')}, 'by', x.by_client)
     ORDER BY array_position(${STEP_ORDER}, x.status)), '[]') ${CHILD('renewal_project_steps')}) AS history,
  (SELECT coalesce(json_agg(json_build_object('projectId', x.project_id, 'oldDeviceId', x.old_device_id, 'newDeviceId', x.new_device_id,
       'oldHandle', o.handle, 'newHandle', n.handle, 'at', ${ISO('x.at')}, 'by', x.by_client) ORDER BY x.at, x.old_device_id), '[]')
     FROM renewal_replacements x LEFT JOIN devices o ON o.id = x.old_device_id LEFT JOIN devices n ON n.id = x.new_device_id
     WHERE x.tenant_id = p.tenant_id AND x.project_id = p.id) AS replacements`;
const FROM = `renewal_projects p JOIN tenants t ON t.id = p.tenant_id`;

/**
 * Which projects a tenant sees: the platform all; a group or subsidiary its subtree's; a park its
 * own and its members' (as summaries); a member its own. `$1` is the actor's id.
 */
function visibleScope(actor: TenantRef): string {
  switch (actor.kind) {
    case 'platform':
      return 'true';
    case 'group':
    case 'subsidiary':
      return `t.path @> ARRAY[$1::uuid]`;
    case 'park':
      return `(p.tenant_id = $1::uuid OR (t.kind = 'park-member' AND t.path @> ARRAY[$1::uuid]))`;
    case 'park-member':
      return `p.tenant_id = $1::uuid`;
  }
}

/** A device of some project already: which project. */
export interface ClaimedDevice {
  deviceId: string;
  projectId: string;
}

/** The only place that queries renewal projects, their steps and replacements (and writes their yearly spending into equipment_investments). */
@Injectable()
export class ProjectsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    p: Pick<ProjectRow, 'tenantId' | 'id' | 'name' | 'description' | 'estimatedInvestmentCny'>,
    by: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO renewal_projects (tenant_id, id, name, description, status, estimated_investment_cny) VALUES ($1, $2, $3, $4, 'planned', $5)`,
      [p.tenantId, p.id, p.name, p.description, p.estimatedInvestmentCny],
    );
    await this.addStep(manager, p, 'planned', by);
  }

  async find(id: string, manager?: EntityManager, lock = false): Promise<ProjectRow | undefined> {
    const rows = await (manager ?? this.dataSource).query<ProjectRow[]>(
      `SELECT ${ROW_COLUMNS} FROM ${FROM} WHERE p.id = $1${lock ? ' FOR UPDATE OF p' : ''}`,
      [id],
    );
    return rows[0];
  }

  async record(id: string, manager?: EntityManager): Promise<ProjectRecord | undefined> {
    const rows = await (manager ?? this.dataSource).query<ProjectRecord[]>(`SELECT ${RECORD_COLUMNS} FROM ${FROM} WHERE p.id = $1`, [id]);
    return rows[0];
  }

  /** The projects a tenant sees, in id order (optionally one tenant's, one subtree's, one status's). */
  async list(
    actor: TenantRef,
    filter: { tenantId?: string; subtreeOf?: string; status?: RenewalProjectStatus },
    limit: number,
    after?: string,
  ): Promise<ProjectRecord[]> {
    return this.dataSource.query<ProjectRecord[]>(
      `SELECT ${RECORD_COLUMNS} FROM ${FROM}
        WHERE ${visibleScope(actor)} AND ($2::uuid IS NULL OR p.tenant_id = $2) AND ($3::text IS NULL OR p.status = $3)
          AND ($4::uuid IS NULL OR p.id > $4) AND ($6::uuid IS NULL OR t.path @> ARRAY[$6::uuid])
        ORDER BY p.id LIMIT $5`,
      [actor.id, filter.tenantId ?? null, filter.status ?? null, after ?? null, limit, filter.subtreeOf ?? null],
    );
  }

  async update(
    manager: EntityManager,
    p: Pick<ProjectRow, 'tenantId' | 'id' | 'name' | 'description' | 'status' | 'estimatedInvestmentCny' | 'version'>,
  ) {
    await manager.query(
      `UPDATE renewal_projects SET name = $3, description = $4, status = $5, estimated_investment_cny = $6, version = $7, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [p.tenantId, p.id, p.name, p.description, p.status, p.estimatedInvestmentCny, p.version],
    );
  }

  async addStep(manager: EntityManager, p: Pick<ProjectRow, 'tenantId' | 'id'>, status: RenewalProjectStatus, by: string): Promise<void> {
    await manager.query(`INSERT INTO renewal_project_steps (tenant_id, project_id, status, by_client) VALUES ($1, $2, $3, $4)`, [
      p.tenantId,
      p.id,
      status,
      by,
    ]);
  }

  /** Devices of these that another project renews already. */
  async claimedElsewhere(manager: EntityManager, projectId: string, deviceIds: string[]): Promise<ClaimedDevice[]> {
    return manager.query<ClaimedDevice[]>(
      `SELECT device_id AS "deviceId", project_id AS "projectId" FROM renewal_project_devices
        WHERE device_id = ANY($1::uuid[]) AND project_id <> $2 ORDER BY device_id`,
      [deviceIds, projectId],
    );
  }

  async setDevices(manager: EntityManager, p: Pick<ProjectRow, 'tenantId' | 'id'>, deviceIds: string[]): Promise<void> {
    await manager.query(`DELETE FROM renewal_project_devices WHERE tenant_id = $1 AND project_id = $2 AND device_id <> ALL($3::uuid[])`, [
      p.tenantId,
      p.id,
      deviceIds,
    ]);
    await manager.query(
      `INSERT INTO renewal_project_devices (tenant_id, project_id, device_id) SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING`,
      [p.tenantId, p.id, deviceIds],
    );
  }

  async setModels(manager: EntityManager, p: Pick<ProjectRow, 'tenantId' | 'id'>, modelIds: string[]): Promise<void> {
    await manager.query(`DELETE FROM renewal_project_models WHERE tenant_id = $1 AND project_id = $2`, [p.tenantId, p.id]);
    await manager.query(`INSERT INTO renewal_project_models (tenant_id, project_id, model_id) SELECT $1, $2, unnest($3::uuid[])`, [
      p.tenantId,
      p.id,
      modelIds,
    ]);
  }

  async setFunding(manager: EntityManager, p: Pick<ProjectRow, 'tenantId' | 'id'>, funding: { source: string; amountCny: number }[]) {
    await manager.query(`DELETE FROM renewal_project_funding WHERE tenant_id = $1 AND project_id = $2`, [p.tenantId, p.id]);
    await manager.query(
      `INSERT INTO renewal_project_funding (tenant_id, project_id, source, amount_cny) SELECT $1, $2, s, a FROM unnest($3::text[], $4::numeric[]) AS f(s, a)`,
      [p.tenantId, p.id, funding.map((f) => f.source), funding.map((f) => f.amountCny)],
    );
  }

  /**
   * What the project spent per year, and the same rows in equipment_investments (source
   * 'project', one per project and year, upserted; years no longer listed go), where the
   * indicators read a tenant's yearly equipment investment.
   */
  async setActualInvestments(
    manager: EntityManager,
    p: Pick<ProjectRow, 'tenantId' | 'id'>,
    amounts: { year: number; amountCny: number }[],
  ) {
    const years = amounts.map((a) => a.year);
    const cny = amounts.map((a) => a.amountCny);
    await manager.query(`DELETE FROM renewal_project_investments WHERE tenant_id = $1 AND project_id = $2`, [p.tenantId, p.id]);
    await manager.query(
      `INSERT INTO renewal_project_investments (tenant_id, project_id, year, amount_cny) SELECT $1, $2, y, a FROM unnest($3::int[], $4::numeric[]) AS i(y, a)`,
      [p.tenantId, p.id, years, cny],
    );
    await manager.query(
      `DELETE FROM equipment_investments WHERE tenant_id = $1 AND source = 'project' AND project_id = $2 AND year <> ALL($3::int[])`,
      [p.tenantId, p.id, years],
    );
    await manager.query(
      `INSERT INTO equipment_investments AS e (tenant_id, year, source, project_id, amount_cny)
       SELECT $1, y, 'project', $2, a FROM unnest($3::int[], $4::numeric[]) AS i(y, a)
       ON CONFLICT (tenant_id, year, source, coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid))
         DO UPDATE SET amount_cny = EXCLUDED.amount_cny, updated_at = now() WHERE e.amount_cny IS DISTINCT FROM EXCLUDED.amount_cny`,
      [p.tenantId, p.id, years, cny],
    );
  }

  async replacementOf(manager: EntityManager, deviceId: string): Promise<ReplacementRow | undefined> {
    const rows = await manager.query<ReplacementRow[]>(
      `SELECT project_id AS "projectId", old_device_id AS "oldDeviceId", new_device_id AS "newDeviceId", NULL AS "oldHandle", NULL AS "newHandle",
              ${ISO('at')} AS at, by_client AS by
         FROM renewal_replacements WHERE old_device_id = $1 OR new_device_id = $1 LIMIT 1`,
      [deviceId],
    );
    return rows[0];
  }

  async insertReplacement(
    manager: EntityManager,
    p: Pick<ProjectRow, 'tenantId' | 'id'>,
    oldDeviceId: string,
    newDeviceId: string,
    by: string,
  ) {
    await manager.query(
      `INSERT INTO renewal_replacements (tenant_id, project_id, old_device_id, new_device_id, by_client) VALUES ($1, $2, $3, $4, $5)`,
      [p.tenantId, p.id, oldDeviceId, newDeviceId, by],
    );
  }
}
