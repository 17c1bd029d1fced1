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
    const redis = createRedis(env.redisUrl, env.redisKeyPrefix);
    try {
      await expect(redisHealth(redis).check()).resolves.toBeUndefined();
      expect(await incrementWindow(redis, 'failures:c1', 1)).toBe(1);
      expect(await incrementWindow(redis, 'failures:c1', 1)).toBe(2);
      const raw = createRedis(env.redisUrl, '');
      expect(await raw.get(`${env.redisKeyPrefix}failures:c1`)).toBe('2');
      raw.disconnect();
      await new Promise((r) => setTimeout(r, 1100));
      expect(await incrementWindow(redis, 'failures:c1', 1)).toBe(1);
    } finally {
      redis.disconnect();
    }
  });
});
