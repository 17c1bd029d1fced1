import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TenantKind } from '@iip/platform-auth';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import type { IndicatorReport } from './indicators.service';

export interface SnapshotRow {
  tenantId: string;
  month: string;
  ruleTenantId: string | null;
  ruleVersion: number;
  report: IndicatorReport;
  takenAt: Date;
}

/** The only place that reads and writes the monthly indicator snapshots. */
@Injectable()
export class SnapshotsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Tenants with no snapshot for `month` yet (at most `limit`). */
  async tenantsWithout(manager: EntityManager, month: string, limit: number): Promise<{ id: string; kind: TenantKind; path: string[] }[]> {
    return manager.query(
      `SELECT t.id, t.kind, t.path FROM tenants t
        WHERE NOT EXISTS (SELECT 1 FROM renewal_indicator_snapshots s WHERE s.tenant_id = t.id AND s.month = $1::date)
        ORDER BY t.id LIMIT $2`,
      [month, limit],
    );
  }

  /** Stores a snapshot unless one for the month exists already (so taking one again changes nothing). */
  async insert(manager: EntityManager, month: string, report: IndicatorReport): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `INSERT INTO renewal_indicator_snapshots (tenant_id, month, rule_tenant_id, rule_version, report) VALUES ($1, $2::date, $3, $4, $5::jsonb)
       ON CONFLICT (tenant_id, month) DO NOTHING RETURNING 1`,
      [report.tenantId, month, report.ruleVersion.tenantId, report.ruleVersion.version, JSON.stringify(report)],
    );
    return rows.length > 0;
  }

  async history(tenantId: string, from: string, to: string): Promise<SnapshotRow[]> {
    return this.dataSource.query<SnapshotRow[]>(
      `SELECT tenant_id AS "tenantId", to_char(month, 'YYYY-MM') AS month, rule_tenant_id AS "ruleTenantId", rule_version AS "ruleVersion",
              report, taken_at AS "takenAt"
         FROM renewal_indicator_snapshots WHERE tenant_id = $1 AND month BETWEEN $2::date AND $3::date ORDER BY month`,
      [tenantId, from, to],
    );
  }
}
