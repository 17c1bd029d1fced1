import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TelemetryPoint } from '@iip/contracts';
import { BinaryRowWriter, copyBinaryRows, isUniqueViolation } from '@iip/platform-database';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';

/** A point as stored: one property's value at one instant of one device. */
export interface StoredPoint {
  tenantId: string;
  deviceId: string;
  property: string;
  ts: number;
  value: TelemetryPoint['value'];
}

/** A numeric point newly stored, as rules see it. */
export interface NewNumericPoint {
  deviceId: string;
  property: string;
  ts: Date;
  num: number;
}

const DAY_MS = 86_400_000;

/**
 * Upserts one rollup level from `source` (rows of tenant_id, device_id, property, bucket and
 * the aggregates of a finer level). first/last come from the earliest/latest (instant, value)
 * pair: min/max over [epoch, value] arrays, which needs no sort.
 */
const rollupSql = (table: string, source: string, bucket: string) => `
  ${table}_rows AS (
    INSERT INTO ${table} AS r (tenant_id, device_id, property, bucket, count, min, max, sum, first, first_ts, last, last_ts)
    SELECT tenant_id, device_id, property, ${bucket}, sum(count), min(min), max(max), sum(sum),
           (min(ARRAY[extract(epoch FROM first_ts)::float8, first]))[2], min(first_ts),
           (max(ARRAY[extract(epoch FROM last_ts)::float8, last]))[2], max(last_ts)
      FROM ${source} GROUP BY 1, 2, 3, 4
    ON CONFLICT (tenant_id, device_id, property, bucket) DO UPDATE SET
      count = r.count + EXCLUDED.count,
      min = least(r.min, EXCLUDED.min),
      max = greatest(r.max, EXCLUDED.max),
      sum = r.sum + EXCLUDED.sum,
      first = CASE WHEN EXCLUDED.first_ts < r.first_ts THEN EXCLUDED.first ELSE r.first END,
      first_ts = least(r.first_ts, EXCLUDED.first_ts),
      last = CASE WHEN EXCLUDED.last_ts >= r.last_ts THEN EXCLUDED.last ELSE r.last END,
      last_ts = greatest(r.last_ts, EXCLUDED.last_ts)
    RETURNING 1
  )`;

/** Points of one device, as one message carried them. */
export interface DevicePoints {
  tenantId: string;
  deviceId: string;
  points: readonly TelemetryPoint[];
}

/** Aggregates of one (device, property, minute) of numeric points, as the batch itself holds them. */
interface MinuteRollup {
  tenantId: string;
  deviceId: string;
  property: string;
  bucket: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  first: number;
  firstTs: number;
  last: number;
  lastTs: number;
}

const MINUTE_MS = 60_000;

/**
 * The only place that reads and writes points and rollups (a column store could take it over).
 * Points go in by COPY straight into the partitioned table; its unique key refuses a point
 * already stored (a redelivery, a client's re-send), and only then is the batch stored again
 * through a staging table, skipping what is there. Either way the rollups count exactly the
 * points that went in, in the caller's transaction.
 */
@Injectable()
export class PointsStore {
  private readonly partitions = new Set<string>();

  constructor(
    @Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject('TELEMETRY_TIME_ZONE') private readonly timeZone: string,
  ) {}

  /** Stores the points in the caller's transaction; returns how many were new and the new numeric ones of `watched` devices. */
  async insert(
    manager: EntityManager,
    batches: readonly DevicePoints[],
    watched: readonly string[],
  ): Promise<{ inserted: number; forRules: NewNumericPoint[] }> {
    const instants: number[] = [];
    for (const b of batches) for (const p of b.points) instants.push(p.ts);
    if (instants.length === 0) return { inserted: 0, forRules: [] };
    await this.ensurePartitions(instants);
    // Duplicates are rare (only after a fault), so the batch is first tried as all new.
    await manager.query('SAVEPOINT points_copy');
    try {
      await copyBinaryRows(manager, 'points', POINT_COLUMNS, batches, encodePoints);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await manager.query('ROLLBACK TO SAVEPOINT points_copy');
      return this.insertSkippingStored(manager, batches, watched);
    }
    await manager.query('RELEASE SAVEPOINT points_copy');
    // Every point went in: the batch itself is what the rollups and the rules count.
    const minutes = minutesOf(batches);
    if (minutes.length > 0) await this.upsertRollups(manager, minutes);
    return { inserted: instants.length, forRules: numericPointsOf(batches, new Set(watched)) };
  }

  /**
   * The minutes computed from a batch, upserted into rollup_1m; hours and days are counted from
   * these same minute rows, in the same statement.
   */
  private async upsertRollups(manager: EntityManager, minutes: MinuteRollup[]): Promise<void> {
    const column = <K extends keyof MinuteRollup>(k: K) => minutes.map((m) => m[k]);
    await manager.query(
      `WITH minutes AS MATERIALIZED (
         SELECT tenant_id, device_id, property, 'epoch'::timestamptz + bucket_ms * interval '1 millisecond' AS bucket,
                count, min, max, sum, first, 'epoch'::timestamptz + first_ms * interval '1 millisecond' AS first_ts,
                last, 'epoch'::timestamptz + last_ms * interval '1 millisecond' AS last_ts
           FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::float8[], $8::float8[], $9::float8[],
                       $10::float8[], $11::bigint[], $12::float8[], $13::bigint[])
                AS m(tenant_id, device_id, property, bucket_ms, count, min, max, sum, first, first_ms, last, last_ms)
       ),
       ${rollupSql('rollup_1m', 'minutes', 'bucket')},
       ${rollupSql('rollup_1h', 'minutes', `date_trunc('hour', bucket)`)},
       ${rollupSql('rollup_1d', 'minutes', `date_trunc('day', bucket, $1)`)}
       SELECT 1`,
      [
        this.timeZone,
        column('tenantId'),
        column('deviceId'),
        column('property'),
        column('bucket'),
        column('count'),
        column('min'),
        column('max'),
        column('sum'),
        column('first'),
        column('firstTs'),
        column('last'),
        column('lastTs'),
      ],
    );
  }

  /** The batch again, through a staging table: points already stored are skipped, the rollups count those that went in. */
  private async insertSkippingStored(
    manager: EntityManager,
    batches: readonly DevicePoints[],
    watched: readonly string[],
  ): Promise<{ inserted: number; forRules: NewNumericPoint[] }> {
    await manager.query(
      `CREATE TEMP TABLE IF NOT EXISTS points_staging (
         tenant_id uuid, device_id uuid, property text, ts timestamptz(3), num double precision, bool boolean, str text, json jsonb
       ) ON COMMIT DELETE ROWS`,
    );
    await copyBinaryRows(manager, 'points_staging', POINT_COLUMNS, batches, encodePoints);
    const rows = await manager.query<{ k: string; device_id: string | null; property: string | null; ts: Date | null; num: number }[]>(
      `WITH inserted AS (
         INSERT INTO points (tenant_id, device_id, property, ts, num, bool, str, json)
         SELECT tenant_id, device_id, property, ts, num, bool, str, json FROM points_staging
         ON CONFLICT DO NOTHING
         RETURNING tenant_id, device_id, property, ts, num
       ),
       numeric_rows AS (SELECT * FROM inserted WHERE num IS NOT NULL),
       -- The new points by minute, once; hours and days are counted from these, not from every point again.
       minutes AS MATERIALIZED (
         SELECT tenant_id, device_id, property, date_trunc('minute', ts) AS bucket, count(*) AS count, min(num) AS min, max(num) AS max,
                sum(num) AS sum, min(ts) AS first_ts, max(ts) AS last_ts,
                (min(ARRAY[extract(epoch FROM ts)::float8, num]))[2] AS first, (max(ARRAY[extract(epoch FROM ts)::float8, num]))[2] AS last
           FROM numeric_rows GROUP BY 1, 2, 3, 4
       ),
       ${rollupSql('rollup_1m', 'minutes', 'bucket')},
       ${rollupSql('rollup_1h', 'minutes', `date_trunc('hour', bucket)`)},
       ${rollupSql('rollup_1d', 'minutes', `date_trunc('day', bucket, $1)`)}
       SELECT 'count' AS k, NULL::uuid AS device_id, NULL::text AS property, NULL::timestamptz AS ts, count(*)::float8 AS num FROM inserted
       UNION ALL
       SELECT 'rule', device_id, property, ts, num FROM numeric_rows WHERE device_id = ANY($2::uuid[])`,
      [this.timeZone, watched],
    );
    const forRules: NewNumericPoint[] = [];
    let inserted = 0;
    for (const r of rows) {
      if (r.k === 'count') inserted = Number(r.num);
      else forRules.push({ deviceId: r.device_id as string, property: r.property as string, ts: r.ts as Date, num: r.num });
    }
    return { inserted, forRules };
  }

  /** Day partitions for these instants (and any missing from today to `aheadDays`), created once each, by whichever instance comes first. */
  async ensurePartitions(instants: number[], aheadDays = 0): Promise<void> {
    const days = new Set(instants.map((t) => Math.floor(t / DAY_MS)));
    const today = Math.floor(Date.now() / DAY_MS);
    for (let d = 0; d <= aheadDays; d++) days.add(today + d);
    const missing = [...days].filter((d) => !this.partitions.has(partitionName(d)));
    if (missing.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('iip-telemetry:partitions'))`);
      for (const day of missing) {
        const from = new Date(day * DAY_MS).toISOString();
        const to = new Date((day + 1) * DAY_MS).toISOString();
        await manager.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF points FOR VALUES FROM ('${from}') TO ('${to}')`,
        );
      }
    });
    missing.forEach((d) => this.partitions.add(partitionName(d)));
  }

  /** Drops day partitions wholly older than `days` ago; returns their names. */
  async dropPartitionsBefore(days: number): Promise<string[]> {
    const cutoff = Math.floor(Date.now() / DAY_MS) - days;
    const rows = await this.dataSource.query<{ name: string }[]>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = 'points' AND n.nspname = current_schema()`,
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      const day = dayOfPartition(name);
      if (day !== undefined && day < cutoff) {
        await this.dataSource.query(`DROP TABLE IF EXISTS ${name}`);
        this.partitions.delete(name);
        dropped.push(name);
      }
    }
    return dropped;
  }
}

function partitionName(day: number): string {
  return `points_${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

function dayOfPartition(name: string): number | undefined {
  const m = /^points_(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS) : undefined;
}

const POINT_COLUMNS = ['tenant_id', 'device_id', 'property', 'ts', 'num', 'bool', 'str', 'json'];

/** A message's points as rows of POINT_COLUMNS; a value goes in the column of its type. */
function encodePoints(out: BinaryRowWriter, b: DevicePoints): void {
  for (const p of b.points) {
    out.row();
    out.uuid(b.tenantId);
    out.uuid(b.deviceId);
    out.name(p.property);
    out.timestamptz(p.ts);
    const v = p.value;
    if (typeof v === 'number') out.float8(v);
    else out.null();
    if (typeof v === 'boolean') out.bool(v);
    else out.null();
    if (typeof v === 'string') out.text(v);
    else out.null();
    if (typeof v === 'object' && v !== null) out.jsonb(v);
    else out.null();
  }
}

/**
 * The numeric points by device, property and minute (UTC minutes: every zone in use today is
 * offset by whole minutes, so they are the zone's minutes too).
 */
function minutesOf(batches: readonly DevicePoints[]): MinuteRollup[] {
  const byDevice = new Map<string, Map<string, Map<number, MinuteRollup>>>();
  const all: MinuteRollup[] = [];
  for (const b of batches) {
    const key = `${b.tenantId}/${b.deviceId}`;
    let byProperty = byDevice.get(key);
    if (!byProperty) byDevice.set(key, (byProperty = new Map<string, Map<number, MinuteRollup>>()));
    for (const { ts, property, value: v } of b.points) {
      if (typeof v !== 'number') continue;
      const bucket = ts - (ts % MINUTE_MS);
      let byMinute = byProperty.get(property);
      if (!byMinute) byProperty.set(property, (byMinute = new Map<number, MinuteRollup>()));
      const m = byMinute.get(bucket);
      if (!m) {
        const row = {
          tenantId: b.tenantId,
          deviceId: b.deviceId,
          property,
          bucket,
          count: 1,
          min: v,
          max: v,
          sum: v,
          first: v,
          firstTs: ts,
          last: v,
          lastTs: ts,
        };
        byMinute.set(bucket, row);
        all.push(row);
        continue;
      }
      m.count++;
      m.sum += v;
      if (v < m.min) m.min = v;
      if (v > m.max) m.max = v;
      if (ts < m.firstTs) {
        m.first = v;
        m.firstTs = ts;
      }
      if (ts > m.lastTs) {
        m.last = v;
        m.lastTs = ts;
      }
    }
  }
  return all;
}

/** The numeric points of the watched devices, for the rules. */
function numericPointsOf(batches: readonly DevicePoints[], watched: ReadonlySet<string>): NewNumericPoint[] {
  const out: NewNumericPoint[] = [];
  if (watched.size === 0) return out;
  for (const b of batches) {
    if (!watched.has(b.deviceId)) continue;
    for (const p of b.points)
      if (typeof p.value === 'number') out.push({ deviceId: b.deviceId, property: p.property, ts: new Date(p.ts), num: p.value });
  }
  return out;
}

/** One bucket of an aggregate over one device's property. */
export interface AggregateRow {
  deviceId: string;
  bucket: string;
  count: number;
  min: number;
  max: number;
  sum: number;
  avg: number;
  first: number;
  last: number;
}

export type RollupSource = 'rollup_1m' | 'rollup_1h' | 'rollup_1d';

/** Reads of points and rollups (the same repository that writes them). */
export class PointsReader {
  constructor(private readonly dataSource: DataSource) {}

  /** Raw points of one property in [from, to), in instant order, after `after` (the cursor), up to `limit`. */
  async raw(q: { tenantId: string; deviceId: string; property: string; from: Date; to: Date; after?: Date; limit: number }) {
    return this.dataSource.query<{ ts: Date; num: number | null; bool: boolean | null; str: string | null; json: unknown }[]>(
      `SELECT ts, num, bool, str, json FROM points
        WHERE tenant_id = $1 AND device_id = $2 AND property = $3 AND ts >= $4 AND ts < $5 AND ($6::timestamptz IS NULL OR ts > $6)
        ORDER BY ts LIMIT $7`,
      [q.tenantId, q.deviceId, q.property, q.from, q.to, q.after ?? null, q.limit],
    );
  }

  /**
   * Buckets of `stride` (a PostgreSQL interval) starting at `origin` (a local midnight in the
   * zone), counted from `source`'s rows that lie in [from, to); `day` groups rollup rows by the
   * zone's calendar day instead (a day is not always 24 hours).
   */
  async aggregate(q: {
    devices: { tenantId: string; deviceId: string }[];
    property: string;
    from: Date;
    to: Date;
    source: RollupSource;
    stride: string;
    origin: Date;
    byDay: boolean;
    direct: boolean;
    timeZone: string;
  }): Promise<AggregateRow[]> {
    if (q.direct) return this.rollupRows(q);
    const params: unknown[] = [q.devices.map((d) => d.tenantId), q.devices.map((d) => d.deviceId), q.property, q.from, q.to];
    const bucket = q.byDay ? `date_trunc('day', bucket, $6)` : `date_bin($6::interval, bucket, $7::timestamptz)`;
    params.push(...(q.byDay ? [q.timeZone] : [q.stride, q.origin]));
    const rows = await this.dataSource.query<
      { device_id: string; b: Date; count: string; min: number; max: number; sum: number; first: number; last: number }[]
    >(
      `SELECT device_id, ${bucket} AS b, sum(count) AS count, min(min) AS min, max(max) AS max, sum(sum) AS sum,
              (array_agg(first ORDER BY first_ts))[1] AS first, (array_agg(last ORDER BY last_ts DESC))[1] AS last
         FROM ${q.source}
        WHERE (tenant_id, device_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) AND property = $3 AND bucket >= $4 AND bucket < $5
        GROUP BY device_id, b ORDER BY device_id, b`,
      params,
    );
    return rows.map(aggregateRow);
  }

  /** A rollup's own rows in [from, to): when the buckets asked for are its buckets. */
  private async rollupRows(q: {
    devices: { tenantId: string; deviceId: string }[];
    property: string;
    from: Date;
    to: Date;
    source: RollupSource;
  }) {
    const rows = await this.dataSource.query<
      { device_id: string; bucket: Date; count: string; min: number; max: number; sum: number; first: number; last: number }[]
    >(
      `SELECT device_id, bucket, count, min, max, sum, first, last FROM ${q.source}
        WHERE (tenant_id, device_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) AND property = $3 AND bucket >= $4 AND bucket < $5
        ORDER BY device_id, bucket`,
      [q.devices.map((d) => d.tenantId), q.devices.map((d) => d.deviceId), q.property, q.from, q.to],
    );
    return rows.map((r) => ({ ...r, b: r.bucket })).map(aggregateRow);
  }

  /** The newest value of each property of a device, from the points themselves (when Redis has none). */
  async latest(tenantId: string, deviceId: string, since: Date) {
    return this.dataSource.query<
      { property: string; ts: Date; num: number | null; bool: boolean | null; str: string | null; json: unknown }[]
    >(
      `SELECT DISTINCT ON (property) property, ts, num, bool, str, json FROM points
        WHERE tenant_id = $1 AND device_id = $2 AND ts >= $3 ORDER BY property, ts DESC`,
      [tenantId, deviceId, since],
    );
  }
}

/** A stored row's value, whichever typed column holds it. */
export function valueOfRow(r: { num: number | null; bool: boolean | null; str: string | null; json: unknown }): unknown {
  return r.num ?? r.bool ?? r.str ?? r.json;
}

function aggregateRow(r: {
  device_id: string;
  b: Date;
  count: string;
  min: number;
  max: number;
  sum: number;
  first: number;
  last: number;
}): AggregateRow {
  return {
    deviceId: r.device_id,
    bucket: r.b.toISOString(),
    count: Number(r.count),
    min: r.min,
    max: r.max,
    sum: r.sum,
    avg: r.sum / Number(r.count),
    first: r.first,
    last: r.last,
  };
}
