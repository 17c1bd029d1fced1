import { Redis } from '@iip/platform-redis';
import { StoredPoint } from './points-store';

/**
 * For one device's hash (KEYS[1]): ARGV holds property, ts, value-JSON triples; a property's
 * field is replaced only by a newer instant, so batches landing out of order keep the newest.
 */
const SET_IF_NEWER = `
for i = 1, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local ts = tonumber(ARGV[i + 1])
  if not current or tonumber(string.match(current, '^(%d+)')) < ts then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. ' ' .. ARGV[i + 2])
  end
end
return 0
`;

export interface LatestValue {
  ts: string;
  value: unknown;
}

/** The newest value of each property of each device, in Redis (a cache: PointsStore can rebuild it). */
export class LatestValues {
  constructor(private readonly redis: Redis) {}

  async update(points: StoredPoint[]): Promise<void> {
    const newest = new Map<string, Map<string, StoredPoint>>();
    for (const p of points) {
      let byProperty = newest.get(p.deviceId);
      if (!byProperty) newest.set(p.deviceId, (byProperty = new Map<string, StoredPoint>()));
      const seen = byProperty.get(p.property);
      if (!seen || seen.ts < p.ts) byProperty.set(p.property, p);
    }
    await Promise.all(
      [...newest].map(([deviceId, byProperty]) =>
        this.redis.eval(
          SET_IF_NEWER,
          [`latest:${deviceId}`],
          [...byProperty.values()].flatMap((p) => [p.property, p.ts, JSON.stringify(p.value)]),
        ),
      ),
    );
  }

  /** property → newest value; empty when Redis holds none for the device. */
  async of(deviceId: string): Promise<Record<string, LatestValue>> {
    const fields = await this.redis.hGetAll(`latest:${deviceId}`);
    const out: Record<string, LatestValue> = {};
    for (const [property, text] of Object.entries(fields)) {
      const space = text.indexOf(' ');
      out[property] = { ts: new Date(Number(text.slice(0, space))).toISOString(), value: JSON.parse(text.slice(space + 1)) as unknown };
    }
    return out;
  }
}
