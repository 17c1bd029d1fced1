import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Principal, TenantKind } from '@iip/platform-auth';
import { KnownTenant, TenantsRepository } from '../tenants/tenants.repository';
import { CountParams, EMPTY_COUNTS, IndicatorsRepository, ScopeCounts } from './indicators.repository';
import { aggregateTenant } from './renewal-scope';
import { INVESTMENT_BASELINE_YEAR, RenewalRules, RuleVersionRef, monthIndex, networkedSince } from './rules';
import { RulesService } from './rules.service';

/** One of the plan's indicators: value = numerator / denominator (null when the denominator is 0). */
export interface Indicator {
  numerator: number;
  denominator: number;
  value: number | null;
  /** The target the rules set (null: none), and whether the value meets it (null: no target or no value). */
  target: number | null;
  met: boolean | null;
  ruleVersion: RuleVersionRef;
}

export interface IndicatorSet {
  /** 关键工序数控化率: NC-capable key-process equipment / key-process equipment (target > 75 %). */
  keyProcessNcRate: Indicator;
  /** Devices that sent data in the last 24 hour buckets / devices. */
  networkingRate: Indicator;
  /** Key energy-using equipment at the energy-saving level or better / key energy-using equipment. */
  energySavingShare: Indicator;
  /** Over-age equipment (the age rule's categories) / equipment of those categories. */
  overAgeShare: Indicator;
  /** value = this year's investment / the 2023 baseline − 1 (target +25 %: 0.25). */
  investmentGrowth: Indicator & { year: number; baselineYear: number };
}

export interface IndicatorReport {
  tenantId: string;
  tenantKind: TenantKind;
  asOf: string;
  ruleVersion: RuleVersionRef;
  /** Devices counted (not decommissioned), the tenant's own and its subtree's. */
  devices: number;
  indicators: IndicatorSet;
  /** With `children`: the same figures for each tenant right below (a group's subsidiaries, a park's members), under the same rules. */
  children?: IndicatorReport[];
}

export interface ReportOptions {
  /** The investment year (default: the current year, UTC). */
  year?: number;
  children?: boolean;
  /** The instant the figures are for (default now); the snapshot worker passes the month's start. */
  now?: Date;
}

/**
 * The plan's indicators per tenant, rolled up along the tenant tree, from the read model only
 * (counters kept with every device write, and the activity facts): never a scan of devices.
 * Also used by the exports (CSV/XLSX) and the monthly snapshots.
 */
@Injectable()
export class IndicatorsService {
  constructor(
    private readonly repository: IndicatorsRepository,
    private readonly tenants: TenantsRepository,
    private readonly rules: RulesService,
  ) {}

  /** The indicators of `tenantId` (default the actor's own) as the actor may see them: itself, its subtree, a park its members (aggregates only). */
  async report(actor: Principal, tenantId?: string, options: ReportOptions = {}): Promise<IndicatorReport> {
    const tenant = await aggregateTenant(this.tenants, actor, tenantId);
    return this.reportFor(tenant, options);
  }

  /** The report of a tenant the caller has already been allowed to see. */
  async reportFor(
    tenant: Pick<KnownTenant, 'id' | 'kind' | 'path'>,
    options: ReportOptions = {},
    manager?: EntityManager,
  ): Promise<IndicatorReport> {
    const now = options.now ?? new Date();
    const year = options.year ?? now.getUTCFullYear();
    const effective = await this.rules.effectiveFor(tenant, manager);
    const params = countParams(effective.rules, now);
    const scopes = tenant.kind === 'platform' ? [tenant.id, ...(await this.repository.topLevelTenants(manager))] : [tenant.id];
    const children = options.children ? await this.repository.children(tenant.id, manager) : [];
    const all = [...scopes, ...children.map((c) => c.id)];
    const years = [...new Set([year, INVESTMENT_BASELINE_YEAR])];
    const [counts, investments] = await Promise.all([
      this.repository.counts(all, params, manager),
      this.repository.investments(all, years, manager),
    ]);
    const build = (t: Pick<KnownTenant, 'id' | 'kind'>, ids: string[]): IndicatorReport => {
      const c = sumCounts(ids.map((id) => counts.get(id) ?? EMPTY_COUNTS));
      const invested = (y: number) => ids.reduce((n, id) => n + (investments.get(id)?.get(y) ?? 0), 0);
      return {
        tenantId: t.id,
        tenantKind: t.kind,
        asOf: now.toISOString(),
        ruleVersion: effective.ruleVersion,
        devices: c.devices,
        indicators: indicatorsOf(c, invested(year), invested(INVESTMENT_BASELINE_YEAR), year, effective.rules, effective.ruleVersion),
      };
    };
    const report = build(tenant, scopes);
    if (options.children) report.children = children.map((c) => build({ id: c.id, kind: c.kind as TenantKind }, [c.id]));
    return report;
  }
}

export function countParams(rules: RenewalRules, now: Date): CountParams {
  return {
    energyCategories: rules.energy.categories,
    minGrade: rules.energy.minGrade,
    ageCategories: rules.overAge.categories,
    overAgeBeforeMonth: monthIndex(now) - rules.overAge.maxYears * 12,
    networkedSince: networkedSince(now),
  };
}

function sumCounts(list: ScopeCounts[]): ScopeCounts {
  const out = { ...list[0] };
  for (const c of list.slice(1)) for (const k of Object.keys(out) as (keyof ScopeCounts)[]) out[k] += c[k];
  return out;
}

/** The indicator figures from a scope's sums (exported for the bench, which checks them against a direct SQL aggregate). */
export function indicatorsOf(
  c: ScopeCounts,
  investedThisYear: number,
  investedBaseline: number,
  year: number,
  rules: RenewalRules,
  ruleVersion: RuleVersionRef,
): IndicatorSet {
  const t = rules.targets;
  const share = (numerator: number, denominator: number, target: number | null, strictly = false): Indicator => {
    const value = denominator > 0 ? numerator / denominator : null;
    const met = target === null || value === null ? null : strictly ? value > target : value >= target;
    return { numerator, denominator, value, target, met, ruleVersion };
  };
  const growth = share(investedThisYear, investedBaseline, null);
  const growthValue = growth.value === null ? null : growth.value - 1;
  return {
    keyProcessNcRate: share(c.keyProcessNc, c.keyProcess, t.keyProcessNcRate, true),
    networkingRate: share(c.networked, c.devices, t.networkingRate),
    energySavingShare: share(c.keyEnergyAtSavingLevel, c.keyEnergy, t.energySavingShare),
    // Fewer is better here: the target is a ceiling.
    overAgeShare: (() => {
      const s = share(c.overAge, c.ageRuled, null);
      return { ...s, target: t.overAgeShare, met: t.overAgeShare === null || s.value === null ? null : s.value <= t.overAgeShare };
    })(),
    investmentGrowth: {
      ...growth,
      value: growthValue,
      target: t.investmentGrowth,
      met: t.investmentGrowth === null || growthValue === null ? null : growthValue >= t.investmentGrowth - 1e-12,
      year,
      baselineYear: INVESTMENT_BASELINE_YEAR,
    },
  };
}
