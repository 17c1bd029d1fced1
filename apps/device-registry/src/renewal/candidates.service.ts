import { Injectable } from '@nestjs/common';
import { Principal, canManage } from '@iip/platform-auth';
import { Page, encodeCursor, readCursor } from '@iip/platform-http';
import { EquipmentProfile } from '../devices/dto/device.dto';
import { TenantsRepository } from '../tenants/tenants.repository';
import { CandidateRow, CandidatesRepository } from './candidates.repository';
import { aggregateTenant, notFound } from './renewal-scope';
import { RenewalReason, RuleVersionRef, evaluate, priorityScore } from './rules';
import { RulesService } from './rules.service';

export interface RenewalCandidate {
  deviceId: string;
  tenantId: string;
  name: string;
  handle: string | null;
  status: string;
  profile: EquipmentProfile;
  /** 0 … 100: README, "Priority score". */
  priority: number;
  /** replace, must-replace or digital-upgrade: the strongest of the reasons' actions. */
  action: RenewalReason['action'];
  reasons: RenewalReason[];
}

export interface CandidatePage extends Page<RenewalCandidate> {
  ruleVersion: RuleVersionRef;
  /** How many candidates there are in all (every page). */
  total: number;
}

const ACTION_RANK: Record<RenewalReason['action'], number> = { 'must-replace': 3, replace: 2, 'digital-upgrade': 1 };

/** The devices to renew (or upgrade), each with its reasons, highest priority first. */
@Injectable()
export class CandidatesService {
  constructor(
    private readonly repository: CandidatesRepository,
    private readonly tenants: TenantsRepository,
    private readonly rules: RulesService,
  ) {}

  /**
   * Candidates among the devices the actor manages (its own and its subtree's; of `tenantId`
   * only, when given), under the rules of `tenantId` (default: the actor's). A park manages
   * none of its members' devices: their tenant reads as missing here (it sees their indicators).
   */
  async list(actor: Principal, options: { tenantId?: string; limit: number; cursor?: string }): Promise<CandidatePage> {
    const after = options.cursor ? readCursor(options.cursor, ['int', 'uuid']) : undefined;
    const { ruleVersion, items } = await this.all(actor, options.tenantId);
    let start = 0;
    if (after) {
      const [tenths, id] = after as [number, string];
      start = items.findIndex((c) => Math.round(c.priority * 10) < tenths || (Math.round(c.priority * 10) === tenths && c.deviceId > id));
      if (start < 0) start = items.length;
    }
    const page = items.slice(start, start + options.limit);
    const last = page[page.length - 1];
    const more = start + options.limit < items.length;
    return {
      items: page,
      nextCursor: more && last ? encodeCursor([Math.round(last.priority * 10), last.deviceId]) : null,
      ruleVersion,
      total: items.length,
    };
  }

  /** Every candidate, highest priority first (then by device id): the list's pages, and the exports. */
  async all(actor: Principal, tenantId?: string, now = new Date()): Promise<{ ruleVersion: RuleVersionRef; items: RenewalCandidate[] }> {
    const tenant = await aggregateTenant(this.tenants, actor, tenantId);
    if (!canManage(actor.tenant, tenant)) throw notFound(tenant.id);
    const effective = await this.rules.effectiveFor(tenant);
    const r = effective.rules;
    const cutoff = new Date(Date.UTC(now.getUTCFullYear() - r.overAge.maxYears, now.getUTCMonth() + 1, 1));
    const rows = await this.repository.possibleCandidates(actor.tenant, tenantId, {
      ageCategories: r.overAge.categories,
      commissionedBefore: cutoff.toISOString().slice(0, 10),
      energyCategories: r.energy.categories,
      minGrade: r.energy.minGrade,
      incidentsSince: new Date(now.getTime() - r.failureRate.windowDays * 86_400_000),
    });
    const items: RenewalCandidate[] = [];
    for (const row of rows) {
      const facts = factsOf(row);
      const reasons = evaluate(facts, r, now);
      if (reasons.length === 0) continue;
      const action = reasons.reduce((a, x) => (ACTION_RANK[x.action] > ACTION_RANK[a] ? x.action : a), reasons[0].action);
      items.push({
        deviceId: row.id,
        tenantId: row.tenantId,
        name: row.name,
        handle: row.handle,
        status: row.status,
        profile: row.profile,
        priority: priorityScore(facts, r, now),
        action,
        reasons,
      });
    }
    items.sort((a, b) => b.priority - a.priority || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    return { ruleVersion: effective.ruleVersion, items };
  }
}

function factsOf(row: CandidateRow) {
  return { profile: row.profile, lastSeenAt: row.lastSeenAt ? new Date(row.lastSeenAt) : null, alarms: row.alarms, failures: row.failures };
}
