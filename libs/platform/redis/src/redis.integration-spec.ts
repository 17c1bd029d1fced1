import { createTestEnvironment, TestEnvironment } from '@iip/platform-testing';
import { createRedis, incrementWindow, redisHealth } from './redis';

describe('redis helpers against real Redis', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment('redis');
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it('prefixes keys, counts in a window that expires, and reports health', async () => {
    const redis = await createRedis(env.redisUrl, env.redisKeyPrefix);
    try {
      await expect(redisHealth(redis).check()).resolves.toBeUndefined();
      expect(await incrementWindow(redis, 'failures:c1', 1)).toBe(1);
      expect(await incrementWindow(redis, 'failures:c1', 1)).toBe(2);
      const raw = await createRedis(env.redisUrl, '');
      expect(await raw.get(`${env.redisKeyPrefix}failures:c1`)).toBe('2');
      await raw.disconnect();
      await new Promise((r) => setTimeout(r, 1100));
      expect(await incrementWindow(redis, 'failures:c1', 1)).toBe(1);
    } finally {
      await redis.disconnect();
    }
  });

  it('sets with an expiry, deletes, scans under its prefix only, and refuses to start when nothing answers', async () => {
    const redis = await createRedis(env.redisUrl, `${env.redisKeyPrefix}scan:`);
    const other = await createRedis(env.redisUrl, `${env.redisKeyPrefix}other:`);
    try {
      await redis.set('a', '1', 150);
      await redis.set('b', '2');
      await other.set('a', 'x');
      const seen: string[] = [];
      for await (const keys of redis.scan('*')) seen.push(...keys);
      expect(seen.sort()).toEqual(['a', 'b']);
      await new Promise((r) => setTimeout(r, 300));
      expect(await redis.get('a')).toBeNull();
      expect(await redis.del(['b', 'missing'])).toBe(1);
      expect(await other.get('a')).toBe('x');
    } finally {
      await redis.disconnect();
      await other.disconnect();
    }
    await expect(createRedis('redis://127.0.0.1:1', '', { connectTimeoutMs: 500 })).rejects.toThrow();
  });

  it('takes a value once: concurrent takers get it exactly once', async () => {
    const redis = await createRedis(env.redisUrl, `${env.redisKeyPrefix}take:`);
    try {
      await redis.set('challenge', 'nonce', 5_000);
      const taken = await Promise.all([redis.take('challenge'), redis.take('challenge'), redis.take('challenge')]);
      expect(taken.filter((t) => t === 'nonce')).toHaveLength(1);
      expect(taken.filter((t) => t === null)).toHaveLength(2);
      expect(await redis.get('challenge')).toBeNull();
    } finally {
      await redis.disconnect();
    }
  });
});
