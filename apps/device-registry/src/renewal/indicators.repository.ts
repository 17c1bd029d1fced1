import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';

/** One scope's sums from the read model (a scope: a tenant and its subtree). */
export interface ScopeCounts {
  devices: number;
  keyProcess: number;
  keyProcessNc: number;
  keyEnergy: number;
  keyEnergyAtSavingLevel: number;
  ageRuled: number;
  overAge: number;
  networked: number;
}

export interface CountParams {
  energyCategories: string[];
  minGrade: number;
  ageCategories: string[];
  /** Devices commissioned in an earlier month (year × 12 + month − 1) are over-age. */
  overAgeBeforeMonth: number;
  /** Hour buckets from this instant on count as networked. */
  networkedSince: Date;
}

export const EMPTY_COUNTS: Readonly<ScopeCounts> = {
  devices: 0,
  keyProcess: 0,
  keyProcessNc: 0,
  keyEnergy: 0,
  keyEnergyAtSavingLevel: 0,
  ageRuled: 0,
  overAge: 0,
  networked: 0,
};

/** The only place that reads the indicators' read model (counters kept by the devices' triggers and the activity consumer). */
@Injectable()
export class IndicatorsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** The sums of each scope (each a tenant id: its own devices and its subtree's), from the counters only. */
  async counts(scopes: string[], p: CountParams, manager?: EntityManager): Promise<Map<string, ScopeCounts>> {
    const db = manager ?? this.dataSource;
    const [rows, seen] = await Promise.all([
      db.query<(Omit<ScopeCounts, 'networked'> & { tenantId: string })[]>(
        `SELECT tenant_id AS "tenantId",
                coalesce(sum(n), 0)::float8 AS devices,
                coalesce(sum(n) FILTER (WHERE key_process), 0)::float8 AS "keyProcess",
                coalesce(sum(n) FILTER (WHERE key_process AND nc_capable), 0)::float8 AS "keyProcessNc",
                coalesce(sum(n) FILTER (WHERE category = ANY($2::text[])), 0)::float8 AS "keyEnergy",
                coalesce(sum(n) FILTER (WHERE category = ANY($2::text[]) AND efficiency_grade BETWEEN 1 AND $3 AND NOT below_access_level), 0)::float8
                  AS "keyEnergyAtSavingLevel",
                coalesce(sum(n) FILTER (WHERE category = ANY($4::text[])), 0)::float8 AS "ageRuled",
                coalesce(sum(n) FILTER (WHERE category = ANY($4::text[]) AND commissioned_month >= 0 AND commissioned_month < $5), 0)::float8 AS "overAge"
           FROM renewal_counts WHERE tenant_id = ANY($1::uuid[]) GROUP BY tenant_id`,
        [scopes, p.energyCategories, p.minGrade, p.ageCategories, p.overAgeBeforeMonth],
      ),
      db.query<{ tenantId: string; networked: number }[]>(
        `SELECT tenant_id AS "tenantId", coalesce(sum(n), 0)::float8 AS networked
           FROM renewal_seen_hours WHERE tenant_id = ANY($1::uuid[]) AND hour >= $2 GROUP BY tenant_id`,
        [scopes, p.networkedSince],
      ),
    ]);
    const out = new Map<string, ScopeCounts>(scopes.map((s) => [s, { ...EMPTY_COUNTS }]));
    for (const { tenantId, ...sums } of rows) out.set(tenantId, { ...sums, networked: 0 });
    for (const r of seen) {
      const c = out.get(r.tenantId);
      if (c) c.networked = r.networked;
    }
    return out;
  }

  /**
   * Yearly equipment investment of each scope: per tenant of the subtree, its reported figure
   * for the year when it reported one, else the sum of its projects' rows.
   */
  async investments(scopes: string[], years: number[], manager?: EntityManager): Promise<Map<string, Map<number, number>>> {
    const rows = await (manager ?? this.dataSource).query<{ scope: string; year: number; amount: string }[]>(
      `WITH per AS (
         SELECT tenant_id, year,
                coalesce(max(amount_cny) FILTER (WHERE source = 'reported'), sum(amount_cny) FILTER (WHERE source = 'project')) AS amount
           FROM equipment_investments WHERE year = ANY($2::int[]) GROUP BY 1, 2)
       SELECT s.scope, per.year, sum(per.amount)::text AS amount
         FROM unnest($1::uuid[]) AS s(scope)
         JOIN tenants t ON t.path @> ARRAY[s.scope]
         JOIN per ON per.tenant_id = t.id
        GROUP BY 1, 2`,
      [scopes, years],
    );
    const out = new Map<string, Map<number, number>>(scopes.map((s) => [s, new Map()]));
    for (const r of rows) out.get(r.scope)?.set(r.year, Number(r.amount));
    return out;
  }

  /** Tenants right below the platform: together they are the platform's subtree. */
  async topLevelTenants(manager?: EntityManager): Promise<string[]> {
    const rows = await (manager ?? this.dataSource).query<{ id: string }[]>(`SELECT id FROM tenants WHERE cardinality(path) = 2`);
    return rows.map((r) => r.id);
  }

  /** The tenants whose parent is `id`. */
  async children(id: string, manager?: EntityManager): Promise<{ id: string; kind: string; path: string[] }[]> {
    return (manager ?? this.dataSource).query(
      `SELECT id, kind, path FROM tenants WHERE path @> ARRAY[$1::uuid] AND path[cardinality(path) - 1] = $1 ORDER BY id`,
      [id],
    );
  }
}
