import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Principal } from '@iip/platform-auth';
import { targetTenant } from '../tenants/tenant-scope';
import { DEVICE_REGISTRY_DATA_SOURCE, KnownTenant, TenantsRepository } from '../tenants/tenants.repository';
import { aggregateTenant } from './renewal-scope';
import { DEFAULT_RULES, RenewalRules, RuleVersionRef } from './rules';
import { RulesRepository } from './rules.repository';

export interface EffectiveRules {
  /** The tenant the rules apply to. */
  tenantId: string;
  /** Whose version it is: the tenant's own, an ancestor's, or the plan's defaults (tenantId null, version 0). */
  ruleVersion: RuleVersionRef;
  inherited: boolean;
  rules: RenewalRules;
  createdAt: string | null;
}

/** Renewal rules per tenant, versioned: a tenant's newest version, else its nearest ancestor's, else the plan's defaults. */
@Injectable()
export class RulesService {
  constructor(
    private readonly rules: RulesRepository,
    private readonly tenants: TenantsRepository,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async get(actor: Principal, tenantId?: string): Promise<EffectiveRules> {
    return this.effectiveFor(await aggregateTenant(this.tenants, actor, tenantId));
  }

  /** The rules that apply to a tenant the caller has already been allowed to see. */
  async effectiveFor(tenant: Pick<KnownTenant, 'id' | 'path'>, manager?: EntityManager): Promise<EffectiveRules> {
    const stored = await this.rules.nearest(tenant.path, manager);
    if (!stored) {
      return { tenantId: tenant.id, ruleVersion: { tenantId: null, version: 0 }, inherited: true, rules: DEFAULT_RULES, createdAt: null };
    }
    return {
      tenantId: tenant.id,
      ruleVersion: { tenantId: stored.tenantId, version: stored.version },
      inherited: stored.tenantId !== tenant.id,
      rules: stored.rules,
      createdAt: stored.createdAt.toISOString(),
    };
  }

  /** A new version of the rules of a tenant the caller manages (its own by default). */
  async put(actor: Principal, rules: RenewalRules, tenantId?: string): Promise<EffectiveRules> {
    return this.dataSource.transaction(async (manager) => {
      const owner = await targetTenant(this.tenants, actor, tenantId, manager);
      const stored = await this.rules.append(manager, owner.id, rules, actor.clientId);
      return {
        tenantId: owner.id,
        ruleVersion: { tenantId: owner.id, version: stored.version },
        inherited: false,
        rules: stored.rules,
        createdAt: stored.createdAt.toISOString(),
      };
    });
  }
}
