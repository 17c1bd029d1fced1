import { Injectable } from '@nestjs/common';
import { Principal, TenantRelation, canManage, relationTo } from '@iip/platform-auth';
import { TenancyError, TenancyErrorCode } from '../tenancy.errors';
import { TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService, tenantRef } from '../tenants/tenants.service';
import { DataGrantEntity } from './data-grant.entity';
import { DataGrantsRepository } from './data-grants.repository';

export type AccessLevel = 'profile' | 'data' | 'manage';

export interface AccessDecision {
  allowed: boolean;
  relation: TenantRelation | 'granted';
}

/**
 * Data grants and the access decision other services ask for. A park sees its members'
 * profiles by membership, their data only where a member granted it; a partner sees only
 * what was granted to it (and the grantor's profile).
 */
@Injectable()
export class AccessService {
  constructor(
    private readonly tenants: TenantsService,
    private readonly tenantRows: TenantsRepository,
    private readonly grants: DataGrantsRepository,
  ) {}

  /**
   * The grantee is not looked up: any well-formed tenant id is accepted, so a grant does not
   * confirm that the grantee exists. A grant to an id no tenant has is inert.
   */
  async grant(actor: Principal, grantorId: string, granteeId: string, dataScope: string): Promise<DataGrantEntity> {
    const grantor = await this.tenants.getVisible(actor.tenant, grantorId);
    if (!canManage(actor.tenant, tenantRef(grantor))) throw TenancyError.tenantNotFound(grantorId);
    return this.grants.upsert(grantorId, granteeId, dataScope);
  }

  async revoke(actor: Principal, grantorId: string, granteeId: string, dataScope: string): Promise<void> {
    const grantor = await this.tenants.getVisible(actor.tenant, grantorId);
    if (!canManage(actor.tenant, tenantRef(grantor))) throw TenancyError.tenantNotFound(grantorId);
    if (!(await this.grants.remove(grantorId, granteeId, dataScope)))
      throw new TenancyError(TenancyErrorCode.GRANT_NOT_FOUND, 'No such grant');
  }

  async list(actor: Principal, grantorId: string): Promise<DataGrantEntity[]> {
    const grantor = await this.tenants.getVisible(actor.tenant, grantorId);
    if (!canManage(actor.tenant, tenantRef(grantor))) throw TenancyError.tenantNotFound(grantorId);
    return this.grants.listFrom(grantorId, 1000);
  }

  /**
   * May `actorId` act on `targetId` at `level`? The caller must be the platform (a service
   * acting for others) or ask about itself.
   */
  async checkAccess(caller: Principal, actorId: string, targetId: string, level: AccessLevel, dataScope?: string): Promise<AccessDecision> {
    if (caller.tenant.kind !== 'platform' && caller.tenant.id !== actorId) {
      throw new TenancyError(TenancyErrorCode.NOT_PERMITTED, 'A tenant may only check its own access');
    }
    const [actor, target] = await Promise.all([this.tenantRows.findById(actorId), this.tenantRows.findById(targetId)]);
    if (!actor || !target) return { allowed: false, relation: 'none' };
    const relation = relationTo(tenantRef(actor), tenantRef(target));
    const manages = canManage(tenantRef(actor), tenantRef(target));
    switch (level) {
      case 'manage':
        return { allowed: manages, relation };
      case 'profile': {
        // The rule GET /v1/tenants/{id} answers by.
        const allowed = (await this.tenants.visibility(tenantRef(actor), target)) !== 'none';
        return { allowed, relation: allowed && relation === 'none' ? 'granted' : relation };
      }
      case 'data':
        if (manages) return { allowed: true, relation };
        return (await this.grants.exists(targetId, actorId, dataScope))
          ? { allowed: true, relation: 'granted' }
          : { allowed: false, relation };
    }
  }
}
