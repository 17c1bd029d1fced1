import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { PointsStore } from './points-store';

export const RETENTION_DEFAULTS = Symbol('RETENTION_DEFAULTS');

/** How long a tenant's points are kept, days. */
export interface Retention {
  rawDays: number;
  rollupDays: number;
}

/** What one upkeep pass removed. */
export interface RetentionPass {
  droppedPartitions: string[];
  rawDeleted: number;
  rollupsDeleted: number;
}

const DAY_MS = 86_400_000;
const ROLLUPS = ['rollup_1m', 'rollup_1h', 'rollup_1d'] as const;

/**
 * Retention per tenant: the settings (the tenant_retention table) and their enforcement. A day
 * partition is dropped only once it is older than the longest raw retention any tenant has (or
 * the default); from the partitions kept, each tenant's rows older than its own retention are
 * deleted, as are its rollup rows past its rollup retention.
 */
@Injectable()
export class RetentionStore {
  constructor(
    @Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly store: PointsStore,
    @Inject(RETENTION_DEFAULTS) readonly defaults: Retention,
  ) {}

  /** The tenant's own retention, or undefined when it keeps the defaults. */
  async find(tenantId: string): Promise<Retention | undefined> {
    const rows = await this.dataSource.query<{ raw_days: number; rollup_days: number }[]>(
      `SELECT raw_days, rollup_days FROM tenant_retention WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0] ? { rawDays: rows[0].raw_days, rollupDays: rows[0].rollup_days } : undefined;
  }

  async save(tenantId: string, r: Retention): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO tenant_retention (tenant_id, raw_days, rollup_days) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET raw_days = EXCLUDED.raw_days, rollup_days = EXCLUDED.rollup_days, updated_at = now()`,
      [tenantId, r.rawDays, r.rollupDays],
    );
  }

  /** One pass of retention over every tenant (the hourly upkeep runs it). */
  async enforce(now = new Date()): Promise<RetentionPass> {
    const { rawDays, rollupDays } = this.defaults;
    const [bounds] = await this.dataSource.query<{ longest_raw: number; shortest_raw: number; shortest_rollup: number }[]>(
      `SELECT greatest($1, max(raw_days)) AS longest_raw, least($1, min(raw_days)) AS shortest_raw, least($2, min(rollup_days)) AS shortest_rollup
         FROM tenant_retention`,
      [rawDays, rollupDays],
    );
    const droppedPartitions = await this.store.dropPartitionsBefore(bounds.longest_raw);
    // Only rows older than the shortest retention can be due: the bound keeps the scan to the old partitions.
    let rawDeleted = 0;
    if (bounds.shortest_raw < bounds.longest_raw) {
      const [, count] = await this.dataSource.query<[unknown, number]>(
        `DELETE FROM points p
          WHERE p.ts < $1
            AND p.ts < $2::timestamptz - make_interval(days => coalesce((SELECT r.raw_days FROM tenant_retention r WHERE r.tenant_id = p.tenant_id), $3))`,
        [new Date(now.getTime() - bounds.shortest_raw * DAY_MS), now, rawDays],
      );
      rawDeleted = count;
    }
    let rollupsDeleted = 0;
    for (const table of ROLLUPS) {
      const [, count] = await this.dataSource.query<[unknown, number]>(
        `DELETE FROM ${table} b
          WHERE b.bucket < $1
            AND b.bucket < $2::timestamptz - make_interval(days => coalesce((SELECT r.rollup_days FROM tenant_retention r WHERE r.tenant_id = b.tenant_id), $3))`,
        [new Date(now.getTime() - bounds.shortest_rollup * DAY_MS), now, rollupDays],
      );
      rollupsDeleted += count;
    }
    return { droppedPartitions, rawDeleted, rollupsDeleted };
  }
}
