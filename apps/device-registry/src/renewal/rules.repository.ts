import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { RenewalRules } from './rules';

export interface StoredRules {
  tenantId: string;
  version: number;
  rules: RenewalRules;
  createdBy: string;
  createdAt: Date;
}

/** The only place that reads and writes renewal rule versions. */
@Injectable()
export class RulesRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** The newest version set by the nearest tenant on `path` (the tenant itself first, then its ancestors). */
  async nearest(path: string[], manager?: EntityManager): Promise<StoredRules | undefined> {
    const rows = await (manager ?? this.dataSource).query<StoredRules[]>(
      `SELECT tenant_id AS "tenantId", version, rules, created_by AS "createdBy", created_at AS "createdAt"
         FROM renewal_rule_versions WHERE tenant_id = ANY($1::uuid[])
        ORDER BY array_position($1::uuid[], tenant_id) DESC, version DESC LIMIT 1`,
      [path],
    );
    return rows[0];
  }

  async find(tenantId: string, version: number): Promise<StoredRules | undefined> {
    const rows = await this.dataSource.query<StoredRules[]>(
      `SELECT tenant_id AS "tenantId", version, rules, created_by AS "createdBy", created_at AS "createdAt"
         FROM renewal_rule_versions WHERE tenant_id = $1 AND version = $2`,
      [tenantId, version],
    );
    return rows[0];
  }

  /** Appends the next version of a tenant's rules (one writer at a time per tenant: the row lock of the newest). */
  async append(manager: EntityManager, tenantId: string, rules: RenewalRules, createdBy: string): Promise<StoredRules> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('iip-renewal-rules:' || $1::text))`, [tenantId]);
    const [row] = await manager.query<StoredRules[]>(
      `INSERT INTO renewal_rule_versions (tenant_id, version, rules, created_by)
       SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb, $3 FROM renewal_rule_versions WHERE tenant_id = $1
       RETURNING tenant_id AS "tenantId", version, rules, created_by AS "createdBy", created_at AS "createdAt"`,
      [tenantId, JSON.stringify(rules), createdBy],
    );
    return row;
  }
}
