import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { written } from '@iip/platform-database';
import { Principal, TenantRelation, canManage, relationTo } from '@iip/platform-auth';
import { TenancyError, TenancyErrorCode } from '../tenancy.errors';
import { TENANCY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService, tenantRef } from '../tenants/tenants.service';
import { DataGrantEntity } from './data-grant.entity';

export type AccessLevel = 'profile' | 'data' | 'manage';

export interface AccessDecision {
  allowed: boolean;
  relation: TenantRelation | 'granted';
}

/**
 * Data grants and the access decision other services ask for. A park sees its members'
 * profiles by membership, their data only where a member granted it; a partner sees only
 * what was granted to it.
 */
@Injectable()
export class AccessService {
  constructor(
    @Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly tenants: TenantsService,
    private readonly tenantRows: TenantsRepository,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(DataGrantEntity);
  }

  async grant(actor: Principal, grantorId: string, granteeId: string, dataScope: string): Promise<DataGrantEntity> {
    const grantor = await this.tenants.getVisible(actor.tenant, grantorId);
    if (!canManage(actor.tenant, tenantRef(grantor))) throw TenancyError.tenantNotFound(grantorId);
    const grantee = await this.tenantRows.findById(granteeId);
    if (!grantee) throw TenancyError.tenantNotFound(granteeId);
    await this.repo.upsert({ grantorId, granteeId, dataScope }, ['grantorId', 'granteeId', 'dataScope']);
    return written(await this.repo.findOneBy({ grantorId, granteeId, dataScope }), 'grant');
  }

  async revoke(actor: Principal, grantorId: string, granteeId: string, dataScope: string): Promise<void> {
    const grantor = await this.tenants.getVisible(actor.tenant, grantorId);
    if (!canManage(actor.tenant, tenantRef(grantor))) throw TenancyError.tenantNotFound(grantorId);
    const result = await this.repo.delete({ grantorId, granteeId, dataScope });
    if (!result.affected) throw new TenancyError(TenancyErrorCode.GRANT_NOT_FOUND, 'No such grant');
  }

  async list(actor: Principal, grantorId: string): Promise<DataGrantEntity[]> {
    const grantor = await this.tenants.getVisible(actor.tenant, grantorId);
    if (!canManage(actor.tenant, tenantRef(grantor))) throw TenancyError.tenantNotFound(grantorId);
    return this.repo.find({ where: { grantorId }, order: { createdAt: 'ASC' }, take: 1000 });
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
      case 'profile':
        if (relation !== 'none') return { allowed: true, relation };
        return (await this.hasGrant(targetId, actorId)) ? { allowed: true, relation: 'granted' } : { allowed: false, relation };
      case 'data':
        if (manages) return { allowed: true, relation };
        return (await this.hasGrant(targetId, actorId, dataScope)) ? { allowed: true, relation: 'granted' } : { allowed: false, relation };
    }
  }

  private async hasGrant(grantorId: string, granteeId: string, dataScope?: string): Promise<boolean> {
    const where = dataScope ? { grantorId, granteeId, dataScope } : { grantorId, granteeId };
    return (await this.repo.countBy(where)) > 0;
  }
}
