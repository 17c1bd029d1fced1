import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '@iip/platform-auth';
import { DEVICE_REGISTRY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { IndicatorReport, IndicatorsService } from './indicators.service';
import { aggregateTenant } from './renewal-scope';
import { SnapshotsRepository } from './snapshots.repository';

export interface SnapshotView {
  /** YYYY-MM */
  month: string;
  takenAt: string;
  report: IndicatorReport;
}

/** Tenants per transaction when the month's snapshots are taken. */
const BATCH = 100;

/** One indicator snapshot per tenant and month (UTC months), for trends. */
@Injectable()
export class SnapshotsService {
  constructor(
    private readonly snapshots: SnapshotsRepository,
    private readonly indicators: IndicatorsService,
    private readonly tenants: TenantsRepository,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /**
   * Takes this month's snapshot of every tenant that has none yet; idempotent (a snapshot taken
   * is never replaced) and run by one instance at a time (an advisory lock). Returns how many it took.
   */
  async takeMonthly(now = new Date()): Promise<number> {
    const month = `${now.toISOString().slice(0, 7)}-01`;
    let taken = 0;
    for (;;) {
      const done = await this.dataSource.transaction(async (manager) => {
        const [{ locked }] = await manager.query<{ locked: boolean }[]>(
          `SELECT pg_try_advisory_xact_lock(hashtext('iip-renewal-snapshots')) AS locked`,
        );
        if (!locked) return true;
        const due = await this.snapshots.tenantsWithout(manager, month, BATCH);
        for (const tenant of due) {
          if (await this.snapshots.insert(manager, month, await this.indicators.reportFor(tenant, { now }, manager))) taken++;
        }
        return due.length < BATCH;
      });
      if (done) return taken;
    }
  }

  /** The snapshots of a tenant whose indicators the actor may see, from `from` to `to` (YYYY-MM, both included). */
  async history(actor: Principal, from: string, to: string, tenantId?: string): Promise<{ tenantId: string; items: SnapshotView[] }> {
    const tenant = await aggregateTenant(this.tenants, actor, tenantId);
    const rows = await this.snapshots.history(tenant.id, `${from}-01`, `${to}-01`);
    return {
      tenantId: tenant.id,
      items: rows.map((r) => ({ month: r.month, takenAt: new Date(r.takenAt).toISOString(), report: r.report })),
    };
  }
}
