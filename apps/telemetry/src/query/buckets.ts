import type { RollupSource } from '../storage/points-store';

/** Bucket widths an aggregate may ask for, in minutes. */
const BUCKETS: Record<string, number> = {
  '1m': 1,
  '5m': 5,
  '10m': 10,
  '15m': 15,
  '30m': 30,
  '1h': 60,
  '2h': 120,
  '3h': 180,
  '6h': 360,
  '12h': 720,
  '1d': 1440,
};
export const BUCKET_NAMES = Object.keys(BUCKETS);

export interface BucketPlan {
  source: RollupSource;
  /** PostgreSQL interval of one bucket (not used for days). */
  stride: string;
  /** Buckets start at local midnights of the zone. */
  origin: Date;
  byDay: boolean;
  /** The buckets are the source's own rows: read them as they are, nothing to regroup. */
  direct: boolean;
}

/** Whether the zone is one IANA knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, minutes (Asia/Shanghai: 480). */
export function offsetMinutes(zone: string, at: Date): number {
  const name =
    new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')
      ?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/**
 * Which stored series answers an aggregate fastest and still exactly: day rollups for days in
 * the zone they were kept in; hour rollups when the zone's offset is whole hours over the
 * range; minute rollups otherwise. `from` and `to` must lie on bucket boundaries of the zone
 * (every bucket is then whole, so the answer equals one computed over the raw points); the
 * answer names the boundary it wanted when they do not.
 */
export function planBuckets(bucket: string, zone: string, from: Date, to: Date, rollupZone: string): BucketPlan | { error: string } {
  const minutes = BUCKETS[bucket];
  if (minutes === undefined) return { error: `bucket must be one of ${BUCKET_NAMES.join(', ')}` };
  const offsets = [offsetMinutes(zone, from), offsetMinutes(zone, to)];
  for (const [name, at] of [
    ['from', from],
    ['to', to],
  ] as const) {
    const local = at.getTime() / 60_000 + offsetMinutes(zone, at);
    if (!Number.isInteger(local) || ((local % minutes) + minutes) % minutes !== 0) {
      return { error: `${name} must lie on a ${bucket} boundary in ${zone} (buckets start at local midnight)` };
    }
  }
  const wholeHours = offsets.every((o) => o % 60 === 0);
  const byDay = minutes === 1440;
  const source: RollupSource = byDay && zone === rollupZone ? 'rollup_1d' : minutes % 60 === 0 && wholeHours ? 'rollup_1h' : 'rollup_1m';
  // Local midnight of 2000-01-01 in the zone: every bucket boundary of the day lines up with it.
  const origin = new Date(Date.UTC(2000, 0, 1) - offsets[0] * 60_000);
  const direct = (source === 'rollup_1m' && minutes === 1) || (source === 'rollup_1h' && minutes === 60) || source === 'rollup_1d';
  return { source, stride: `${minutes} minutes`, origin, byDay, direct };
}
