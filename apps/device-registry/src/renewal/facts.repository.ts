import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export interface Sighting {
  deviceId: string;
  lastSeenAt: Date;
}

export interface Incident {
  deviceId: string;
  kind: 'alarm' | 'failure';
  /** The alarm's or work order's id: the same one twice is one incident. */
  sourceId: string;
  occurredAt: Date;
}

/** The facts read model telemetry's events feed: last seen per device (and its hour buckets), alarms and failures. */
@Injectable()
export class FactsRepository {
  /**
   * Moves each device's last-seen instant forward and its hour bucket along with it, for every
   * tenant it counts for. The devices are locked (FOR SHARE) first, so a concurrent change of a
   * device — whose trigger moves its bucket when it is decommissioned, or its tenant moves in
   * the tree — happens wholly before or after this.
   */
  async recordSightings(manager: EntityManager, sightings: Sighting[]): Promise<void> {
    const newest = new Map<string, Date>();
    for (const s of sightings) {
      const seen = newest.get(s.deviceId);
      if (!seen || s.lastSeenAt > seen) newest.set(s.deviceId, s.lastSeenAt);
    }
    const ids = [...newest.keys()].sort();
    const devices = await manager.query<{ tenant_id: string; id: string; tenant_path: string[]; status: string }[]>(
      `SELECT tenant_id, id, tenant_path, status FROM devices WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE`,
      [ids],
    );
    if (devices.length === 0) return; // devices this registry does not know: nothing to count them for
    const changed = await manager.query<{ tenant_id: string; device_id: string; old_at: Date | null; new_at: Date }[]>(
      `WITH input AS (
         SELECT x.tenant_id, x.device_id, x.at FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(tenant_id, device_id, at)),
       old AS (
         SELECT a.tenant_id, a.device_id, a.last_seen_at FROM renewal_device_activity a
           JOIN input i ON i.tenant_id = a.tenant_id AND i.device_id = a.device_id),
       up AS (
         INSERT INTO renewal_device_activity AS a (tenant_id, device_id, last_seen_at) SELECT tenant_id, device_id, at FROM input ORDER BY device_id
         ON CONFLICT (tenant_id, device_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at WHERE a.last_seen_at < EXCLUDED.last_seen_at
         RETURNING a.tenant_id, a.device_id, a.last_seen_at)
       SELECT up.tenant_id, up.device_id, old.last_seen_at AS old_at, up.last_seen_at AS new_at
         FROM up LEFT JOIN old ON old.tenant_id = up.tenant_id AND old.device_id = up.device_id`,
      [devices.map((d) => d.tenant_id), devices.map((d) => d.id), devices.map((d) => newest.get(d.id) ?? null)],
    );
    const byId = new Map(devices.map((d) => [d.id, d]));
    const delta = new Map<string, number>();
    const add = (tenantId: string, at: Date, n: number) => {
      const key = `${tenantId}|${new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000).toISOString()}`;
      delta.set(key, (delta.get(key) ?? 0) + n);
    };
    for (const c of changed) {
      const d = byId.get(c.device_id);
      if (!d || d.status === 'decommissioned') continue; // counted nowhere
      for (const scope of scopesOf(d.tenant_path)) {
        if (c.old_at) add(scope, new Date(c.old_at), -1);
        add(scope, new Date(c.new_at), 1);
      }
    }
    const moves = [...delta].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
    if (moves.length === 0) return;
    await manager.query(
      `INSERT INTO renewal_seen_hours AS h (tenant_id, hour, n)
       SELECT x.tenant_id, x.hour, x.n FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[]) AS x(tenant_id, hour, n)
       ON CONFLICT (tenant_id, hour) DO UPDATE SET n = h.n + EXCLUDED.n`,
      [moves.map(([k]) => k.split('|')[0]), moves.map(([k]) => k.split('|')[1]), moves.map(([, n]) => n)],
    );
  }

  /** Records alarms and failures of devices this registry knows (under the device's own tenant); the same source id twice is kept once. */
  async recordIncidents(manager: EntityManager, incidents: Incident[]): Promise<void> {
    if (incidents.length === 0) return;
    await manager.query(
      `INSERT INTO renewal_device_incidents (tenant_id, device_id, kind, source_id, occurred_at)
       SELECT d.tenant_id, d.id, x.kind, x.source_id, x.at
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS x(device_id, kind, source_id, at)
         JOIN devices d ON d.id = x.device_id
       ON CONFLICT DO NOTHING`,
      [
        incidents.map((i) => i.deviceId),
        incidents.map((i) => i.kind),
        incidents.map((i) => i.sourceId),
        incidents.map((i) => i.occurredAt),
      ],
    );
  }
}

/** The tenants a device counts for, as the counters' triggers count them (the migration's SCOPES). */
export function scopesOf(path: string[]): string[] {
  return path.length > 1 ? path.slice(1) : path;
}
