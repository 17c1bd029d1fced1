import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TenantRef } from '@iip/platform-auth';
import { EquipmentProfile } from '../devices/dto/device.dto';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';

export interface CandidateRow {
  tenantId: string;
  id: string;
  name: string;
  handle: string | null;
  status: string;
  profile: EquipmentProfile;
  lastSeenAt: Date | null;
  alarms: number;
  failures: number;
}

export interface CandidateFilter {
  ageCategories: string[];
  /** Commissioned before this date: maybe over-age (the rule decides by calendar months). */
  commissionedBefore: string;
  energyCategories: string[];
  minGrade: number;
  incidentsSince: Date;
}

/** The devices some renewal rule may hold for, with their facts (the rules themselves decide, in rules.ts). */
@Injectable()
export class CandidatesRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /**
   * Live devices the actor manages (of `tenantId` only, when given) that may be candidates: a
   * superset of what the rules select, so rules.ts stays the one place that decides.
   */
  async possibleCandidates(actor: TenantRef, tenantId: string | undefined, f: CandidateFilter): Promise<CandidateRow[]> {
    const subtree = actor.kind === 'group' || actor.kind === 'subsidiary';
    const scope = actor.kind === 'platform' ? 'true' : subtree ? 'd.tenant_path @> ARRAY[$1::uuid]' : 'd.tenant_id = $1::uuid';
    const incidentScope =
      actor.kind === 'platform'
        ? 'true'
        : subtree
          ? 'i.tenant_id IN (SELECT id FROM tenants WHERE path @> ARRAY[$1::uuid])'
          : 'i.tenant_id = $1::uuid';
    return this.dataSource.query<CandidateRow[]>(
      `WITH inc AS (
         SELECT tenant_id, device_id, count(*) FILTER (WHERE kind = 'alarm')::int AS alarms, count(*) FILTER (WHERE kind = 'failure')::int AS failures
           FROM renewal_device_incidents i WHERE occurred_at >= $7
            AND ${incidentScope} AND ($2::uuid IS NULL OR i.tenant_id = $2)
          GROUP BY 1, 2)
       SELECT d.tenant_id AS "tenantId", d.id, d.name, d.handle, d.status,
              jsonb_strip_nulls(jsonb_build_object('category', d.category, 'commissionedOn', to_char(d.commissioned_on, 'YYYY-MM-DD'),
                'ratedPowerKw', d.rated_power_kw::float8, 'efficiencyGrade', d.efficiency_grade, 'ncCapable', d.nc_capable,
                'keyProcess', d.key_process, 'criticality', d.criticality,
                'belowAccessLevel', CASE WHEN d.below_access_level THEN true END)) AS profile,
              a.last_seen_at AS "lastSeenAt", coalesce(inc.alarms, 0) AS alarms, coalesce(inc.failures, 0) AS failures
         FROM devices d
         LEFT JOIN renewal_device_activity a ON a.tenant_id = d.tenant_id AND a.device_id = d.id
         LEFT JOIN inc ON inc.tenant_id = d.tenant_id AND inc.device_id = d.id
        WHERE ${scope} AND ($2::uuid IS NULL OR d.tenant_id = $2) AND d.status <> 'decommissioned'
          AND ((d.category = ANY($3::text[]) AND d.commissioned_on < $4::date)
            OR (d.category = ANY($5::text[]) AND (d.efficiency_grade IS NULL OR d.efficiency_grade > $6))
            OR d.below_access_level OR d.key_process OR inc.device_id IS NOT NULL)`,
      [actor.id, tenantId ?? null, f.ageCategories, f.commissionedBefore, f.energyCategories, f.minGrade, f.incidentsSince],
    );
  }
}
