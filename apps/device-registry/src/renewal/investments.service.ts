import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '@iip/platform-auth';
import { targetTenant } from '../tenants/tenant-scope';
import { DEVICE_REGISTRY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { InvestmentRow, InvestmentsRepository } from './investments.repository';
import { aggregateTenant, notFound } from './renewal-scope';
import { canManage } from '@iip/platform-auth';

export interface InvestmentView {
  tenantId: string;
  year: number;
  source: 'reported' | 'project';
  projectId: string | null;
  /** Exact decimal, CNY (e.g. "1250000.00"). */
  amountCny: string;
  updatedAt: string;
}

/** A tenant's yearly equipment investment (2023 is the plan's baseline); renewal projects add their own rows. */
@Injectable()
export class InvestmentsService {
  constructor(
    private readonly investments: InvestmentsRepository,
    private readonly tenants: TenantsRepository,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async report(actor: Principal, year: number, amountCny: string, tenantId?: string): Promise<InvestmentView> {
    const row = await this.dataSource.transaction(async (manager) => {
      const owner = await targetTenant(this.tenants, actor, tenantId, manager);
      return this.investments.putReported(manager, owner.id, year, amountCny);
    });
    return viewOf(row);
  }

  /** A tenant's rows (one the caller manages). */
  async list(actor: Principal, tenantId?: string): Promise<{ items: InvestmentView[] }> {
    const tenant = await aggregateTenant(this.tenants, actor, tenantId);
    if (!canManage(actor.tenant, tenant)) throw notFound(tenant.id);
    return { items: (await this.investments.ofTenant(tenant.id)).map(viewOf) };
  }
}

function viewOf(r: InvestmentRow): InvestmentView {
  return {
    tenantId: r.tenantId,
    year: r.year,
    source: r.source,
    projectId: r.projectId,
    amountCny: r.amountCny,
    updatedAt: r.updatedAt.toISOString(),
  };
}
