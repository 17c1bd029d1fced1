import { HealthRegistry } from './health';

const up = (name: string, critical?: boolean) => ({ name, critical, check: () => Promise.resolve() });
const down = (name: string, critical?: boolean) => ({ name, critical, check: () => Promise.reject(new Error(`${name} unreachable`)) });

describe('HealthRegistry', () => {
  it('is ok when every dependency answers', async () => {
    const h = new HealthRegistry();
    [up('postgres'), up('redis'), up('kafka', false)].forEach((i) => h.register(i));
    await expect(h.readiness()).resolves.toMatchObject({ status: 'ok', checks: { postgres: { status: 'up' }, kafka: { status: 'up' } } });
  });

  it('is degraded, not unready, when only a non-critical dependency is down', async () => {
    const h = new HealthRegistry();
    [up('postgres'), down('kafka', false)].forEach((i) => h.register(i));
    const report = await h.readiness();
    expect(report.status).toBe('degraded');
    expect(report.checks.kafka).toMatchObject({ status: 'down', error: 'kafka unreachable' });
  });

  it('is unready when a critical dependency is down', async () => {
    const h = new HealthRegistry();
    [down('postgres'), up('kafka', false)].forEach((i) => h.register(i));
    expect((await h.readiness()).status).toBe('error');
  });

  it('treats a check that hangs as down', async () => {
    const h = new HealthRegistry();
    h.register({ name: 'redis', check: () => new Promise(() => undefined) });
    const report = await h.readiness(50);
    expect(report.status).toBe('error');
    expect(report.checks.redis.error).toMatch(/did not answer/);
  });
});
