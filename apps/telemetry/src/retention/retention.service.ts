import { Injectable } from '@nestjs/common';
import { Principal, canManage } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { Retention, RetentionStore } from '../storage/retention';
import { TenantsRepository } from '../tenants/tenants.repository';
import { TelemetryError } from '../telemetry.errors';

export const RETENTION_MAX_DAYS = 3650;

export interface RetentionView extends Retention {
  tenantId: string;
  /** `tenant`: set for this tenant; `default`: the service's defaults apply. */
  source: 'tenant' | 'default';
}

/** A tenant's retention: its own, or for a tenant it manages (a group's subsidiary; the operator's any). */
@Injectable()
export class RetentionService {
  constructor(
    private readonly retention: RetentionStore,
    private readonly tenants: TenantsRepository,
  ) {}

  async get(actor: Principal, tenantId = actor.tenant.id): Promise<RetentionView> {
    await this.managed(actor, tenantId);
    const own = await this.retention.find(tenantId);
    return { tenantId, ...(own ?? this.retention.defaults), source: own ? 'tenant' : 'default' };
  }

  async set(actor: Principal, tenantId: string = actor.tenant.id, r: Retention): Promise<RetentionView> {
    // Aggregates are read from rollups: raw points kept longer than those would answer nothing.
    if (r.rollupDays < r.rawDays) throw new RequestValidationError([{ field: 'rollupDays', message: 'must be at least rawDays' }]);
    await this.managed(actor, tenantId);
    await this.retention.save(tenantId, r);
    return { tenantId, ...r, source: 'tenant' };
  }

  /** Any tenant the actor does not manage reads as missing, as one that does not exist. */
  private async managed(actor: Principal, tenantId: string): Promise<void> {
    if (tenantId === actor.tenant.id) return;
    const tenant = (await this.tenants.findMany([tenantId])).get(tenantId);
    if (!tenant || !canManage(actor.tenant, tenant)) throw TelemetryError.tenantNotFound(tenantId);
  }
}
