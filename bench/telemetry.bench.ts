/**
 * `npm run bench -- telemetry`: in one run, with tenancy, the device registry and telemetry as
 * their own processes on this 2-core machine (shared with PostgreSQL, Kafka and the generators):
 * - end to end points per second over MQTT QoS 1 and over HTTP batches: from the first publish
 *   until every point is stored and queryable in PostgreSQL;
 * - the baseline: COPY of the same number of points straight into the same table;
 * - publish → queryable latency of single points (p50, p99);
 * - a 1-day, 1-minute-bucket aggregate with 10,000,000 points stored, over the HTTP API (p50, p99).
 * A "point" is one property's value at one instant (a stored row).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { resolveGrpcPort } from '@iip/platform-grpc';
import { createTestEnvironment, waitFor } from '@iip/platform-testing';

const POINTS = Number(process.env.BENCH_POINTS ?? 600_000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20);
/** Instants per MQTT message or HTTP request (each carries two properties: twice as many points). */
const PER_MESSAGE = Number(process.env.BENCH_PER_MESSAGE ?? 250);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 8);
const STORED_FOR_AGGREGATE = Number(process.env.BENCH_AGGREGATE_POINTS ?? 10_000_000);
const OPERATOR = { id: 'bench-operator', secret: 'bench-operator-secret-0123456789' };
const CREDIT_CODE = '91350100MA2BENCH0E';
const MODEL = {
  properties: {
    temperature: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' },
    speed: { type: 'int', unit: '/min', min: 0, max: 3600, access: 'read-write' },
  },
};

/** Extra Node flags for the server processes, e.g. BENCH_SERVER_NODE_ARGS=--cpu-prof to profile them under this load. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

function serve(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...SERVER_NODE_ARGS, join(__dirname, entry)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function main(): Promise<void> {
  const env = await createTestEnvironment('benchtel');
  const port = () => resolveGrpcPort('127.0.0.1', 0);
  const ports = { tHttp: await port(), tGrpc: await port(), rHttp: await port(), rGrpc: await port(), http: await port(), grpc: await port(), mqtt: await port() };
  const common = env.env({ LOG_LEVEL: 'warn', OPERATOR_CLIENT_ID: OPERATOR.id, OPERATOR_CLIENT_SECRET: OPERATOR.secret });
  const tenancyUrl = `http://127.0.0.1:${ports.tHttp}`;
  const registryUrl = `http://127.0.0.1:${ports.rHttp}`;
  const base = `http://127.0.0.1:${ports.http}`;
  const children: ChildProcess[] = [];
  const clients: MqttClient[] = [];
  const pg = new Client({ connectionString: env.databaseUrl });
  try {
    children.push(serve('../apps/tenancy/src/main.js', { ...common, TENANCY_HOST: '127.0.0.1', TENANCY_HTTP_PORT: String(ports.tHttp), TENANCY_GRPC_PORT: String(ports.tGrpc) }));
    await waitFor(async () => ((await fetch(`${tenancyUrl}/health/live`)).ok ? true : undefined), 60_000, 'tenancy');
    const jwks = `${tenancyUrl}/.well-known/jwks.json`;
    children.push(
      serve('../apps/device-registry/src/main.js', {
        ...common,
        DEVICE_REGISTRY_HOST: '127.0.0.1',
        DEVICE_REGISTRY_HTTP_PORT: String(ports.rHttp),
        DEVICE_REGISTRY_GRPC_PORT: String(ports.rGrpc),
        AUTH_JWKS_URL: jwks,
      }),
    );
    children.push(
      serve('../apps/telemetry/src/main.js', {
        ...common,
        TELEMETRY_HOST: '127.0.0.1',
        TELEMETRY_HTTP_PORT: String(ports.http),
        TELEMETRY_GRPC_PORT: String(ports.grpc),
        TELEMETRY_MQTT_PORT: String(ports.mqtt),
        AUTH_JWKS_URL: jwks,
        TELEMETRY_TOKEN_URL: `${tenancyUrl}/oauth/token`,
        TELEMETRY_CLIENT_ID: OPERATOR.id,
        TELEMETRY_CLIENT_SECRET: OPERATOR.secret,
        TELEMETRY_DEVICE_REGISTRY_GRPC_URL: `127.0.0.1:${ports.rGrpc}`,
      }),
    );
    for (const url of [registryUrl, base]) await waitFor(async () => ((await fetch(`${url}/health/live`).catch(() => undefined))?.ok ? true : undefined), 90_000, url);

    const token = async (id: string, secret: string) => {
      const res = await fetch(`${tenancyUrl}/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const op = await token(OPERATOR.id, OPERATOR.secret);
    const json = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
    const post = async (url: string, t: string, body: unknown) => {
      const res = await fetch(url, { method: 'POST', headers: json(t), body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const group = await post(`${tenancyUrl}/v1/tenants`, op, {
      kind: 'group',
      name: 'Bench group',
      creditCode: CREDIT_CODE,
      quotas: { maxDevices: 10_000, maxTelemetryPointsPerSecond: 10_000_000 },
    });
    const tenantId = group.body.id as string;
    const gc = await post(`${tenancyUrl}/v1/tenants/${tenantId}/clients`, op, {
      name: 'bench',
      scopes: ['devices:read', 'devices:write', 'models:write', 'telemetry:write', 'telemetry:read'],
    });
    const gt = await token(gc.body.clientId as string, gc.body.clientSecret as string);
    const model = await waitFor(async () => {
      const r = await post(`${registryUrl}/v1/models`, gt, { name: 'Bench pump', definition: MODEL });
      return r.status === 201 ? r : undefined;
    }, 30_000, 'the registry to know the group');
    const modelId = model.body.id as string;
    await post(`${registryUrl}/v1/models/${modelId}/versions/1/publish`, gt, {});
    const devices: { id: string; secret: string }[] = [];
    for (let i = 0; i < DEVICES + 1; i++) {
      const d = await post(`${registryUrl}/v1/devices`, gt, { name: `B${i}`, manufacturer: 'KSB', serial: `BENCH-${i}`, model: { id: modelId } });
      const c = await post(`${registryUrl}/v1/devices/${d.body.id as string}/credentials`, gt, { kind: 'secret' });
      devices.push({ id: d.body.id as string, secret: c.body.secret as string });
    }
    for (const d of devices)
      await waitFor(async () => ((await fetch(`${base}/v1/devices/${d.id}/telemetry/latest`, { headers: json(gt) })).ok ? true : undefined), 30_000, 'telemetry to know the devices');
    await pg.connect();
    const storedFor = async (ids: string[]) =>
      Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM points WHERE tenant_id = $1 AND device_id = ANY($2::uuid[])`, [tenantId, ids])).rows[0].n);
    await pg.query('SET search_path TO telemetry');
    // When every point sent is stored: the minute rollups (a few rows, written in the same
    // transaction as their points) say when to look, count(*) over the raw rows proves it, and the
    // instant is taken just before that count, whose snapshot shows them all. (count(*) over a
    // million fresh rows every 200 ms took half a core from what it measured.)
    const rolledUpFor = async (ids: string[]) =>
      Number((await pg.query<{ n: string }>(`SELECT coalesce(sum(count), 0) AS n FROM rollup_1m WHERE tenant_id = $1 AND device_id = ANY($2::uuid[])`, [tenantId, ids])).rows[0].n);
    const storedAt = (ids: string[], expected: number, what: string) =>
      waitFor(
        async () => {
          if ((await rolledUpFor(ids)) < expected) return undefined;
          const at = performance.now();
          return (await storedFor(ids)) >= expected ? at : undefined;
        },
        300_000,
        what,
        20,
      ).catch(async (err: unknown) => {
        throw new Error(`${String(err)}: ${await storedFor(ids)} points stored, ${await rolledUpFor(ids)} counted by the minute rollups, ${expected} sent`);
      });

    // Messages built before the clock starts: the generator shares the machine with what it measures.
    const t0 = Date.now() - 3 * 3_600_000;
    const messages = (deviceIndex: number, offset: number) => {
      const out: string[] = [];
      const perDevice = POINTS / 2 / DEVICES;
      for (let k = 0; k < perDevice; k += PER_MESSAGE) {
        out.push(
          JSON.stringify(
            Array.from({ length: Math.min(PER_MESSAGE, perDevice - k) }, (_, j) => ({
              ts: t0 + offset + (k + j) * 5,
              values: { temperature: ((k + j) % 2000) / 10, speed: (k + j) % 3600 },
            })),
          ),
        );
      }
      return out;
    };
    const fleet = devices.slice(0, DEVICES);
    const ids = fleet.map((d) => d.id);

    // 1. MQTT QoS 1, IN_FLIGHT unacknowledged messages per device at most.
    const mqttMessages = fleet.map((_, i) => messages(i, 0));
    for (const d of fleet) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, { protocolVersion: 5, username: d.id, password: d.secret, reconnectPeriod: 1000 });
      clients.push(c);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
    }
    let refusedMqtt = 0;
    const mqttStarted = performance.now();
    await Promise.all(
      fleet.map(async (d, i) => {
        const c = clients[i];
        const queue = [...mqttMessages[i]];
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
              await new Promise<void>((resolve) =>
                c.publish(`iip/v1/${d.id}/telemetry`, m, { qos: 1 }, (err) => {
                  if (err) refusedMqtt++;
                  resolve();
                }),
              );
            }
          }),
        );
      }),
    );
    const mqttAcked = performance.now();
    const mqttStored = await storedAt(ids, POINTS, 'the MQTT points to be stored');
    const mqttRate = POINTS / ((mqttStored - mqttStarted) / 1000);
    console.log(`MQTT: ${mqttRate.toFixed(0)} points/s end to end (refused ${refusedMqtt})`);

    // 2. HTTP batches (bearer), IN_FLIGHT requests per device.
    const httpMessages = fleet.map((_, i) => messages(i, 1_800_000)); // half an hour later than the MQTT points
    let refusedHttp = 0;
    const httpStarted = performance.now();
    await Promise.all(
      fleet.map(async (d, i) => {
        const queue = [...httpMessages[i]];
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
              const res = await fetch(`${base}/v1/devices/${d.id}/telemetry`, { method: 'POST', headers: json(gt), body: m });
              if (res.status !== 202) refusedHttp++;
              await res.arrayBuffer();
            }
          }),
        );
      }),
    );
    const httpAccepted = performance.now();
    const httpStored = await storedAt(ids, 2 * POINTS, 'the HTTP points to be stored');
    const httpRate = POINTS / ((httpStored - httpStarted) / 1000);
    const storedAll = await storedFor(ids);
    console.log(`HTTP: ${httpRate.toFixed(0)} points/s end to end (refused ${refusedHttp}); stored ${storedAll} of ${2 * POINTS} sent`);

    // 3. Baseline: the same number of points COPYed straight into the same table.
    const baselineDevice = randomUUID();
    const copyStarted = performance.now();
    await pg.query('BEGIN');
    const sink = pg.query(copyFrom('COPY points (tenant_id, device_id, property, ts, num) FROM STDIN'));
    const rows = function* () {
      let chunk = '';
      for (let i = 0; i < POINTS; i++) {
        chunk += `${tenantId}\t${baselineDevice}\t${i % 2 ? 'speed' : 'temperature'}\t${new Date(t0 + Math.floor(i / 2) * 5).toISOString()}\t${i % 3600}\n`;
        if (i % 1000 === 999) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    };
    await pipeline(Readable.from(rows()), sink);
    await pg.query('COMMIT');
    const copyRate = POINTS / ((performance.now() - copyStarted) / 1000);

    // 4. Publish → queryable, one point at a time.
    const probe = devices[DEVICES];
    const pc = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, { protocolVersion: 5, username: probe.id, password: probe.secret });
    clients.push(pc);
    await new Promise<void>((resolve) => pc.once('connect', () => resolve()));
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      const ts = t0 + i * 1000;
      const sent = performance.now();
      pc.publish(`iip/v1/${probe.id}/telemetry`, JSON.stringify({ ts, values: { temperature: 20 } }), { qos: 1 });
      for (;;) {
        const r = await pg.query('SELECT 1 FROM points WHERE tenant_id = $1 AND device_id = $2 AND property = $3 AND ts = $4', [tenantId, probe.id, 'temperature', new Date(ts)]);
        if (r.rowCount) break;
        await new Promise((res) => setTimeout(res, 2));
      }
      latencies.push(performance.now() - sent);
    }
    latencies.sort((a, b) => a - b);

    // 5. 10,000,000 points stored (one a second per device over a day), rollups built from them; a day in 1-minute buckets.
    const aggDevices = Math.ceil(STORED_FOR_AGGREGATE / 86_400);
    const day = Date.UTC(2026, 10, 30, 16); // 2026-12-01 00:00 in Asia/Shanghai
    const seedStarted = performance.now();
    const aggIds = Array.from({ length: aggDevices }, () => randomUUID());
    await pg.query(`CREATE TABLE IF NOT EXISTS points_20261130 PARTITION OF points FOR VALUES FROM ('2026-11-30T00:00:00Z') TO ('2026-12-01T00:00:00Z')`);
    await pg.query(`CREATE TABLE IF NOT EXISTS points_20261201 PARTITION OF points FOR VALUES FROM ('2026-12-01T00:00:00Z') TO ('2026-12-02T00:00:00Z')`);
    await pg.query(
      `INSERT INTO points (tenant_id, device_id, property, ts, num)
       SELECT $1, d, 'temperature', $2::timestamptz + s * interval '1 second', 40 + 30 * sin(s / 600.0)
         FROM unnest($3::uuid[]) d, generate_series(0, 86399) s`,
      [tenantId, new Date(day), aggIds],
    );
    await pg.query(
      `INSERT INTO rollup_1m SELECT tenant_id, device_id, property, date_trunc('minute', ts), count(*), min(num), max(num), sum(num),
              (array_agg(num ORDER BY ts))[1], min(ts), (array_agg(num ORDER BY ts DESC))[1], max(ts)
         FROM points WHERE tenant_id = $1 AND device_id = ANY($2::uuid[]) GROUP BY 1, 2, 3, 4`,
      [tenantId, aggIds],
    );
    // Settled tables, as in a running plant: the insert-triggered autovacuum of 10 million fresh rows would otherwise run during the samples.
    for (const t of ['points_20261130', 'points_20261201', 'rollup_1m']) await pg.query(`VACUUM (ANALYZE) ${t}`);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const total = Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM points')).rows[0].n);
    for (const d of aggIds.slice(0, 3)) {
      await pg.query(`INSERT INTO devices (tenant_id, id, tenant_path, tenant_kind, model_id, model_version, status, version) VALUES ($1, $2, $3, 'group', $4, 1, 'active', 1)`, [
        tenantId,
        d,
        group.body.path,
        modelId,
      ]);
    }
    const aggregateTimes: number[] = [];
    const q = `property=temperature&from=${encodeURIComponent('2026-12-01T00:00:00+08:00')}&to=${encodeURIComponent('2026-12-02T00:00:00+08:00')}&bucket=1m`;
    let buckets = 0;
    // 500 samples after 10 unmeasured ones, so the p99 is the 99th percentile and not the slowest single request.
    for (let i = -10; i < 500; i++) {
      const started = performance.now();
      const res = await fetch(`${base}/v1/devices/${aggIds[(i + 10) % Math.min(3, aggIds.length)]}/telemetry/aggregate?${q}`, { headers: json(gt) });
      const body = (await res.json()) as { buckets: unknown[] };
      if (i >= 0) aggregateTimes.push(performance.now() - started);
      buckets = body.buckets.length;
    }
    aggregateTimes.sort((a, b) => a - b);
    const rawStarted = performance.now();
    await pg.query(
      `SELECT date_bin('1 minute', ts, '2000-01-01T00:00:00+08:00'), count(*), min(num), max(num), sum(num) FROM points
        WHERE tenant_id = $1 AND device_id = $2 AND property = 'temperature' AND ts >= $3 AND ts < $4 GROUP BY 1`,
      [tenantId, aggIds[0], new Date(day), new Date(day + 86_400_000)],
    );
    const rawMs = performance.now() - rawStarted;

    const ratio = Math.min(mqttRate, httpRate) / copyRate;
    console.log(
      [
        '',
        `telemetry bench: ${POINTS.toLocaleString('en')} points per transport (${DEVICES} devices, ${PER_MESSAGE * 2} points a message, ${IN_FLIGHT} in flight per device); 2-core machine shared by the services, PostgreSQL, Kafka and the generators`,
        `MQTT QoS 1 → stored and queryable: ${mqttRate.toFixed(0)} points/s (all PUBACKs after ${((mqttAcked - mqttStarted) / 1000).toFixed(1)} s, all stored after ${((mqttStored - mqttStarted) / 1000).toFixed(1)} s; refused ${refusedMqtt})`,
        `HTTP batches → stored and queryable: ${httpRate.toFixed(0)} points/s (all 202s after ${((httpAccepted - httpStarted) / 1000).toFixed(1)} s, all stored after ${((httpStored - httpStarted) / 1000).toFixed(1)} s; refused ${refusedHttp})`,
        `baseline: COPY of the same points into the same table: ${copyRate.toFixed(0)} points/s`,
        `publish → queryable, one point at a time: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`,
        `aggregate, 1 day in 1-minute buckets (${buckets} buckets) over the HTTP API with ${total.toLocaleString('en')} points stored: p50 ${pct(aggregateTimes, 50).toFixed(1)} ms, p99 ${pct(aggregateTimes, 99).toFixed(1)} ms (the same over raw rows in SQL: ${rawMs.toFixed(0)} ms; seeding took ${seedSeconds.toFixed(0)} s)`,
        `targets: ≥ 50,000 points/s end to end: ${verdict(Math.min(mqttRate, httpRate) >= 50_000)}; ≥ 0.35 × COPY (${ratio.toFixed(2)}): ${verdict(ratio >= 0.35)}; zero loss (every point sent stored once: ${storedAll} of ${2 * POINTS}): ${verdict(refusedMqtt === 0 && refusedHttp === 0 && storedAll === 2 * POINTS)}; aggregate p99 ≤ 100 ms: ${verdict(pct(aggregateTimes, 99) <= 100)}`,
      ].join('\n'),
    );
  } finally {
    for (const c of clients) c.end(true);
    await pg.end().catch(() => undefined);
    for (const c of children) c.kill('SIGTERM');
    await env.cleanup().catch(() => undefined);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
