import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Renewal rules, the facts telemetry's events bring (last seen, alarms, failures), the read
 * model the plan's indicators are answered from, monthly snapshots and yearly investments.
 *
 * The read model's counters (`renewal_counts`, `renewal_seen_hours`) are kept by statement
 * triggers on `devices`, in the same statement as every device write — a registration, a PATCH,
 * a lifecycle move, a bulk import chunk, a tenant moved in the tree, a COPY — so no write path
 * can forget them. A counter row's `tenant_id` is the tenant whose subtree it counts: each device
 * counts for its own tenant and every ancestor below the platform (the platform's root is left
 * out, so all tenants' writes do not queue on one row), so a group's or park's indicators read
 * its own rows only, however many members it has.
 */
export class RenewalIndicators1765526400000 implements MigrationInterface {
  name = 'RenewalIndicators1765526400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE device_registry.devices ADD COLUMN below_access_level boolean NOT NULL DEFAULT false`);
    await q.query(`
      CREATE TABLE device_registry.renewal_rule_versions (
        tenant_id uuid NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        rules jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, version)
      )`);
    // Facts from telemetry's events (never asked of telemetry per request).
    await q.query(`
      CREATE TABLE device_registry.renewal_device_activity (
        tenant_id uuid NOT NULL,
        device_id uuid NOT NULL,
        last_seen_at timestamptz(3) NOT NULL,
        PRIMARY KEY (tenant_id, device_id)
      )`);
    await q.query(`
      CREATE TABLE device_registry.renewal_device_incidents (
        tenant_id uuid NOT NULL,
        device_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('alarm', 'failure')),
        source_id text NOT NULL,
        occurred_at timestamptz(3) NOT NULL,
        PRIMARY KEY (tenant_id, device_id, kind, source_id)
      )`);
    // The read model. Unknowns are '' (category), -1 (month) and 0 (grade): key columns cannot be NULL.
    await q.query(`
      CREATE TABLE device_registry.renewal_counts (
        tenant_id uuid NOT NULL,
        category text NOT NULL,
        commissioned_month integer NOT NULL,
        efficiency_grade smallint NOT NULL,
        below_access_level boolean NOT NULL,
        nc_capable boolean NOT NULL,
        key_process boolean NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (tenant_id, category, commissioned_month, efficiency_grade, below_access_level, nc_capable, key_process)
      )`);
    await q.query(`
      CREATE TABLE device_registry.renewal_seen_hours (
        tenant_id uuid NOT NULL,
        hour timestamptz NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (tenant_id, hour)
      )`);
    await q.query(`
      CREATE TABLE device_registry.renewal_indicator_snapshots (
        tenant_id uuid NOT NULL,
        month date NOT NULL,
        rule_tenant_id uuid,
        rule_version integer NOT NULL,
        report jsonb NOT NULL,
        taken_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, month)
      )`);
    // Yearly equipment investment: 'reported' by the tenant (2023 is the plan's baseline), 'project' per renewal project.
    await q.query(`
      CREATE TABLE device_registry.equipment_investments (
        tenant_id uuid NOT NULL,
        year integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
        source text NOT NULL CHECK (source IN ('reported', 'project')),
        project_id uuid,
        amount_cny numeric(18, 2) NOT NULL CHECK (amount_cny >= 0),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CHECK ((source = 'project') = (project_id IS NOT NULL))
      )`);
    await q.query(`
      CREATE UNIQUE INDEX equipment_investments_key ON device_registry.equipment_investments
        (tenant_id, year, source, coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid))`);
    // A subtree's tenants, for the investments of a group or park.
    await q.query(`CREATE INDEX tenants_path ON device_registry.tenants USING gin (path)`);
    for (const sql of renewalCounterTriggersSql()) await q.query(sql);
    await q.query(`SELECT device_registry.renewal_rebuild_counts()`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['insert', 'update', 'delete']) await q.query(`DROP TRIGGER IF EXISTS renewal_count_${t} ON device_registry.devices`);
    for (const f of ['renewal_count_insert', 'renewal_count_update', 'renewal_count_delete', 'renewal_rebuild_counts']) {
      await q.query(`DROP FUNCTION IF EXISTS device_registry.${f}()`);
    }
    await q.query(`DROP INDEX IF EXISTS device_registry.tenants_path`);
    for (const t of [
      'equipment_investments',
      'renewal_indicator_snapshots',
      'renewal_seen_hours',
      'renewal_counts',
      'renewal_device_incidents',
      'renewal_device_activity',
      'renewal_rule_versions',
    ]) {
      await q.query(`DROP TABLE IF EXISTS device_registry.${t}`);
    }
    await q.query(`ALTER TABLE device_registry.devices DROP COLUMN IF EXISTS below_access_level`);
  }
}

/** The tenants a device counts for: its own and its ancestors below the platform (all of the path for the platform's own devices). */
const SCOPES = `unnest(CASE WHEN cardinality(x.tenant_path) > 1 THEN x.tenant_path[2:] ELSE x.tenant_path END)`;
/** The month a device was commissioned, as year × 12 + month − 1 (−1: unknown). */
export const COMMISSIONED_MONTH_SQL = (col: string) =>
  `coalesce(extract(year FROM ${col})::int * 12 + extract(month FROM ${col})::int - 1, -1)`;

/** Adds `sign` × each live device of `rows` (SQL yielding device rows plus a `sign`) to the counters. */
function applyDeltaSql(rows: string): string[] {
  return [
    `INSERT INTO device_registry.renewal_counts AS c
       (tenant_id, category, commissioned_month, efficiency_grade, below_access_level, nc_capable, key_process, n)
     SELECT s.tenant_id, coalesce(x.category, ''), ${COMMISSIONED_MONTH_SQL('x.commissioned_on')}, coalesce(x.efficiency_grade, 0),
            x.below_access_level, x.nc_capable, x.key_process, sum(x.sign)
       FROM (${rows}) x CROSS JOIN LATERAL ${SCOPES} AS s(tenant_id)
      WHERE x.status <> 'decommissioned'
      GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(x.sign) <> 0
      ORDER BY 1, 2, 3, 4, 5, 6, 7
     ON CONFLICT (tenant_id, category, commissioned_month, efficiency_grade, below_access_level, nc_capable, key_process)
       DO UPDATE SET n = c.n + EXCLUDED.n`,
    `INSERT INTO device_registry.renewal_seen_hours AS h (tenant_id, hour, n)
     SELECT s.tenant_id, date_trunc('hour', a.last_seen_at), sum(x.sign)
       FROM (${rows}) x
       JOIN device_registry.renewal_device_activity a ON a.tenant_id = x.tenant_id AND a.device_id = x.id
       CROSS JOIN LATERAL ${SCOPES} AS s(tenant_id)
      WHERE x.status <> 'decommissioned'
      GROUP BY 1, 2 HAVING sum(x.sign) <> 0
      ORDER BY 1, 2
     ON CONFLICT (tenant_id, hour) DO UPDATE SET n = h.n + EXCLUDED.n`,
  ];
}

const COLUMNS = `tenant_id, id, tenant_path, status, category, commissioned_on, efficiency_grade, below_access_level, nc_capable, key_process`;

function triggerFunction(name: string, rows: string): string {
  return `CREATE OR REPLACE FUNCTION device_registry.${name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      ${applyDeltaSql(rows).join(';\n      ')};
      RETURN NULL;
    END $fn$`;
}

/** The counters' triggers and the function that rebuilds them from the devices (repair, and a bench seeded around the triggers). */
export function renewalCounterTriggersSql(): string[] {
  const added = `SELECT ${COLUMNS}, 1 AS sign FROM new_rows`;
  const removed = `SELECT ${COLUMNS}, -1 AS sign FROM old_rows`;
  return [
    triggerFunction('renewal_count_insert', added),
    triggerFunction('renewal_count_delete', removed),
    triggerFunction('renewal_count_update', `${added} UNION ALL ${removed}`),
    `CREATE TRIGGER renewal_count_insert AFTER INSERT ON device_registry.devices REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION device_registry.renewal_count_insert()`,
    `CREATE TRIGGER renewal_count_delete AFTER DELETE ON device_registry.devices REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION device_registry.renewal_count_delete()`,
    `CREATE TRIGGER renewal_count_update AFTER UPDATE ON device_registry.devices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION device_registry.renewal_count_update()`,
    `CREATE OR REPLACE FUNCTION device_registry.renewal_rebuild_counts() RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      LOCK TABLE device_registry.devices, device_registry.renewal_device_activity IN SHARE MODE;
      DELETE FROM device_registry.renewal_counts;
      DELETE FROM device_registry.renewal_seen_hours;
      ${applyDeltaSql(`SELECT ${COLUMNS}, 1 AS sign FROM device_registry.devices`).join(';\n      ')};
    END $fn$`,
  ];
}
