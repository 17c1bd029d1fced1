import { Redis } from '@iip/platform-redis';
import { KnownTenant } from '../tenants/tenants.repository';

/**
 * Token buckets in Redis, shared by every instance: KEYS are the buckets, ARGV[1] the points
 * asked for, then a rate per bucket. Each bucket holds up to BURST_S seconds of its rate and
 * refills continuously; the points are taken from all of them or from none. Answers 0 when
 * taken, or the seconds until all would have enough.
 */
const TAKE = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local n = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[i + 2])
  local cap = rate * burst
  local state = redis.call('HMGET', key, 't', 'at')
  local tokens = tonumber(state[1]) or cap
  local at = tonumber(state[2]) or ms
  tokens = math.min(cap, tokens + (ms - at) * rate / 1000)
  levels[i] = tokens
  if tokens < n then
    local need = (n > cap) and math.huge or (n - tokens) / rate
    if need > wait then wait = need end
  end
end
if wait > 0 then
  if wait == math.huge then return '-1' end
  return tostring(wait)
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[i + 2])
  redis.call('HSET', key, 't', levels[i] - n, 'at', ms)
  redis.call('PEXPIRE', key, math.ceil(burst * 1000) + 60000)
end
return '0'
`;

/** Seconds of a tenant's rate its bucket holds: a device sending once a second just under its quota is never refused. */
const BURST_S = 2;

export type QuotaAnswer = { taken: true } | { taken: false; retryAfterSeconds: number };

/**
 * `maxTelemetryPointsPerSecond` of the sending tenant and of each of its ancestors (a group's
 * is the total across its subsidiaries), enforced across instances. The platform's own 0 means
 * no limit of its own.
 */
export class TelemetryQuota {
  constructor(private readonly redis: Redis) {}

  async take(tenants: KnownTenant[], points: number): Promise<QuotaAnswer> {
    const limited = tenants.filter((t) => t.kind !== 'platform');
    if (limited.length === 0 || points === 0) return { taken: true };
    if (limited.some((t) => t.maxPointsPerSecond <= 0)) return { taken: false, retryAfterSeconds: 60 };
    const answer = String(
      await this.redis.eval(
        TAKE,
        limited.map((t) => `quota:${t.id}`),
        [points, BURST_S, ...limited.map((t) => t.maxPointsPerSecond)],
      ),
    );
    if (answer === '0') return { taken: true };
    // More than the bucket can ever hold (-1): asking again later does not help; say a minute.
    const wait = Number(answer);
    return { taken: false, retryAfterSeconds: wait < 0 ? 60 : Math.max(0.001, wait) };
  }
}
