import Redis from 'ioredis';
import { HealthIndicator } from '@iip/platform-observability';

/**
 * A Redis client whose keys all carry the service's prefix (and a test run's prefix), so
 * runs never collide. Redis only holds what can be rebuilt from PostgreSQL or Kafka.
 */
export function createRedis(url: string, keyPrefix: string): Redis {
  return new Redis(url, {
    keyPrefix,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 3_000,
  });
}

export function redisHealth(redis: Redis): HealthIndicator {
  return {
    name: 'redis',
    async check() {
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING answer ${String(pong)}`);
    },
  };
}

/**
 * Fixed-window counter: returns the count in the current window after incrementing.
 * Used for rate limits such as failed token requests per client.
 */
export async function incrementWindow(redis: Redis, key: string, windowSec: number): Promise<number> {
  const results = await redis.multi().incr(key).expire(key, windowSec, 'NX').exec();
  const [err, count] = results?.[0] ?? [new Error('no reply'), 0];
  if (err) throw err;
  return Number(count);
}
