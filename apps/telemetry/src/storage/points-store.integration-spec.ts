import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createServiceDataSource, ensureDatabase, migrate } from '@iip/platform-database';
import { createTestEnvironment, TestEnvironment } from '@iip/platform-testing';
import { telemetryMigrations } from '../migrations';
import { DevicePoints, PointsStore } from './points-store';

const ZONE = 'Asia/Shanghai';

/**
 * The store against real PostgreSQL: a batch is stored once per (device, property, instant)
 * whether it is all new (COPY into the table) or partly stored already (a redelivery or a
 * client's re-send), and the rollups always match aggregates over the raw rows.
 */
describe('PointsStore against real PostgreSQL', () => {
  let env: TestEnvironment;
  let ds: DataSource;
  let store: PointsStore;

  beforeAll(async () => {
    env = await createTestEnvironment('pointsstore');
    await ensureDatabase(env.databaseUrl);
    ds = createServiceDataSource({ url: env.databaseUrl, schema: 'telemetry', entities: [], migrations: telemetryMigrations, poolSize: 2 });
    await ds.initialize();
    await migrate(ds, 'telemetry');
    store = new PointsStore(ds, ZONE);
  });
  afterAll(async () => {
    await ds?.destroy();
    await env.cleanup();
  });

  const insert = (batches: DevicePoints[], watched: string[] = []) => ds.transaction((m) => store.insert(m, batches, watched));

  /** Each rollup level's rows next to the same aggregates computed over the raw rows. */
  async function rollupsAndRaw(deviceId: string) {
    const levels = [
      ['rollup_1m', `date_trunc('minute', ts)`],
      ['rollup_1h', `date_trunc('hour', ts)`],
      ['rollup_1d', `date_trunc('day', ts, '${ZONE}')`],
    ] as const;
    const out: Record<string, { rollup: unknown[]; raw: unknown[] }> = {};
    for (const [table, bucket] of levels) {
      const rollup = await ds.query<Record<string, unknown>[]>(
        `SELECT property, bucket, count::int, min, max, sum, first, first_ts, last, last_ts FROM ${table}
          WHERE device_id = $1 ORDER BY property, bucket`,
        [deviceId],
      );
      const raw = await ds.query<Record<string, unknown>[]>(
        `SELECT property, ${bucket} AS bucket, count(*)::int AS count, min(num), max(num), sum(num),
                (array_agg(num ORDER BY ts))[1] AS first, min(ts) AS first_ts, (array_agg(num ORDER BY ts DESC))[1] AS last, max(ts) AS last_ts
           FROM points WHERE device_id = $1 AND num IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
        [deviceId],
      );
      out[table] = { rollup: rollup.map(roundedSum), raw: raw.map(roundedSum) };
    }
    return out;
  }

  it('copies a new batch in and counts its minutes, hours and days; a minute spanning two batches keeps first/last by instant', async () => {
    const tenantId = randomUUID();
    const deviceId = randomUUID();
    const t0 = Date.UTC(2026, 11, 3, 15, 59, 50); // 23:59:50 in Shanghai: the next minute is another hour and day there
    const first: DevicePoints = {
      tenantId,
      deviceId,
      points: [
        { ts: t0 + 5_000, property: 'temperature', value: 20.1 },
        { ts: t0 + 5_000, property: 'running', value: true },
        { ts: t0 + 15_000, property: 'temperature', value: 0.3 },
        { ts: t0 + 15_000, property: 'mode', value: 'auto' },
        { ts: t0 + 20_000, property: 'temperature', value: -7 },
        { ts: t0 + 20_000, property: 'vector', value: { x: 1, y: [2, 3] } },
      ],
    };
    // The second batch holds the earliest and the latest instants of both minutes.
    const second: DevicePoints = {
      tenantId,
      deviceId,
      points: [
        { ts: t0 + 1_000, property: 'temperature', value: 30.7 },
        { ts: t0 + 9_000, property: 'temperature', value: 0.1 },
        { ts: t0 + 69_000, property: 'temperature', value: 5 },
      ],
    };
    expect(await insert([first], [deviceId])).toEqual({
      inserted: 6,
      forRules: [
        { deviceId, property: 'temperature', ts: new Date(t0 + 5_000), num: 20.1 },
        { deviceId, property: 'temperature', ts: new Date(t0 + 15_000), num: 0.3 },
        { deviceId, property: 'temperature', ts: new Date(t0 + 20_000), num: -7 },
      ],
    });
    expect(await insert([second])).toEqual({ inserted: 3, forRules: [] });

    const stored = await ds.query<{ property: string; num: number | null; bool: boolean | null; str: string | null; json: unknown }[]>(
      `SELECT property, num, bool, str, json FROM points WHERE device_id = $1 AND ts = $2 OR device_id = $1 AND property IN ('mode', 'vector') ORDER BY property`,
      [deviceId, new Date(t0 + 5_000)],
    );
    expect(stored).toEqual([
      { property: 'mode', num: null, bool: null, str: 'auto', json: null },
      { property: 'running', num: null, bool: true, str: null, json: null },
      { property: 'temperature', num: 20.1, bool: null, str: null, json: null },
      { property: 'vector', num: null, bool: null, str: null, json: { x: 1, y: [2, 3] } },
    ]);
    const levels = await rollupsAndRaw(deviceId);
    for (const { rollup, raw } of Object.values(levels)) expect(rollup).toEqual(raw);
    expect(levels.rollup_1m.rollup).toHaveLength(2);
    expect(levels.rollup_1m.rollup).toMatchObject([
      { count: 3, first: 30.7, last: 0.1, min: 0.1, max: 30.7 },
      { count: 3, first: 0.3, last: 5, min: -7, max: 5 },
    ]);
    expect(levels.rollup_1d.rollup).toHaveLength(2);
  });

  it('stores a batch again through the staging table when part of it is stored already: each point once, rollups still exact', async () => {
    const tenantId = randomUUID();
    const [deviceId, other] = [randomUUID(), randomUUID()];
    const t0 = Date.UTC(2026, 11, 3, 8, 0, 30);
    const points = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({ ts: t0 + (from + i) * 1_000, property: 'speed', value: ((from + i) * 37) % 101 }));
    expect((await insert([{ tenantId, deviceId, points: points(0, 40) }])).inserted).toBe(40);
    // A re-send of points 20..59 (20 stored already), with one point twice in the same batch, next to another device's new points.
    const again = await insert(
      [
        { tenantId, deviceId, points: points(20, 60) },
        { tenantId, deviceId, points: points(59, 60) },
        { tenantId, deviceId: other, points: points(0, 10) },
      ],
      [deviceId],
    );
    expect(again.inserted).toBe(30);
    expect(again.forRules.map((p) => p.ts.getTime() - t0).sort((a, b) => a - b)).toEqual(points(40, 60).map((p) => p.ts - t0));
    expect(await ds.query(`SELECT count(*)::int AS n FROM points WHERE device_id = $1`, [deviceId])).toEqual([{ n: 60 }]);
    for (const id of [deviceId, other]) for (const { rollup, raw } of Object.values(await rollupsAndRaw(id))) expect(rollup).toEqual(raw);
  });
});

/** Sums compared to 6 decimals (floating-point addition depends on order). */
function roundedSum(r: Record<string, unknown>) {
  return { ...r, sum: Math.round(Number(r.sum) * 1e6) / 1e6 };
}
