import { offsetMinutes, planBuckets } from './buckets';

const at = (iso: string) => new Date(iso);

describe('planBuckets', () => {
  it('answers days in the rollup zone from day rollups, other whole-hour zones from hours, half-hour zones from minutes', () => {
    expect(
      planBuckets('1d', 'Asia/Shanghai', at('2026-12-01T00:00:00+08:00'), at('2026-12-03T00:00:00+08:00'), 'Asia/Shanghai'),
    ).toMatchObject({
      source: 'rollup_1d',
      byDay: true,
    });
    expect(
      planBuckets('1d', 'Europe/Berlin', at('2026-12-01T00:00:00+01:00'), at('2026-12-02T00:00:00+01:00'), 'Asia/Shanghai'),
    ).toMatchObject({
      source: 'rollup_1h',
    });
    expect(
      planBuckets('1h', 'Asia/Kolkata', at('2026-12-01T00:00:00+05:30'), at('2026-12-01T06:00:00+05:30'), 'Asia/Shanghai'),
    ).toMatchObject({
      source: 'rollup_1m',
    });
    expect(
      planBuckets('15m', 'Asia/Shanghai', at('2026-12-01T08:15:00+08:00'), at('2026-12-01T09:00:00+08:00'), 'Asia/Shanghai'),
    ).toMatchObject({
      source: 'rollup_1m',
      stride: '15 minutes',
      origin: at('2000-01-01T00:00:00+08:00'),
    });
  });

  it('names the boundary a range must lie on, and the buckets there are', () => {
    expect(planBuckets('1h', 'Asia/Shanghai', at('2026-12-01T08:30:00+08:00'), at('2026-12-01T10:00:00+08:00'), 'Asia/Shanghai')).toEqual({
      error: 'from must lie on a 1h boundary in Asia/Shanghai (buckets start at local midnight)',
    });
    expect(planBuckets('7m', 'UTC', at('2026-12-01T00:00:00Z'), at('2026-12-01T01:00:00Z'), 'UTC')).toEqual({
      error: expect.stringContaining('bucket must be one of 1m, 5m'),
    });
  });

  it('reads zone offsets at an instant', () => {
    expect(offsetMinutes('Asia/Shanghai', at('2026-07-01T00:00:00Z'))).toBe(480);
    expect(offsetMinutes('America/New_York', at('2026-07-01T00:00:00Z'))).toBe(-240);
    expect(offsetMinutes('UTC', at('2026-07-01T00:00:00Z'))).toBe(0);
  });
});
