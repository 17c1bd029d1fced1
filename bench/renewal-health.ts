/**
 * Part of `npm run bench -- renewal` (or alone, after a build: `node dist/bench/renewal-health.js`):
 * health evaluations per second in telemetry's stream, next to the same stream without them.
 * Tenancy, the device registry and telemetry run as their own processes; telemetry runs twice
 * over the same database — with the health evaluator (TELEMETRY_MAINTENANCE=true) and without —
 * and each run is fed the same history through HTTP batches: BENCH_HEALTH_DEVICES pumps of a
 * profiled model, BENCH_HEALTH_DAYS days of 10-minute points (vibration, bearing temperature,
 * flow, head, power), so each device closes 144 hours a day, each one evaluation.
 * Measured per run: from the first request until every point is stored (the writer) and, with
 * the evaluator, until every hour is evaluated (evaluations per second over that time).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { resolveGrpcPort } from '@iip/platform-grpc';
import { createTestEnvironment, waitFor } from '@iip/platform-testing';

const DEVICES = Number(process.env.BENCH_HEALTH_DEVICES ?? 40);
const DAYS = Number(process.env.BENCH_HEALTH_DAYS ?? 20);
const IN_FLIGHT = Number(process.env.BENCH_HEALTH_IN_FLIGHT ?? 8);
const OPERATOR = { id: 'bench-operator', secret: 'bench-operator-secret-0123456789' };
const STEP = 10 * 60_000;
const HOUR = 3_600_000;
const MODEL = {
  properties: {
    vibration: { type: 'float', unit: 'mm/s', min: 0, max: 100, access: 'read-only' },
    bearingTemp: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' },
    flow: { type: 'float', unit: 'm3/h', min: 0, max: 10000, access: 'read-only' },
    head: { type: 'float', unit: 'm', min: 0, max: 1000, access: 'read-only' },
    power: { type: 'float', unit: 'kW', min: 0, max: 10000, access: 'read-only' },
  },
};
const PROFILE = {
  properties: { vibration: 'vibration', bearingTemperature: 'bearingTemp', flow: 'flow', head: 'head', power: 'power' },
  machineGroup: 2,
  foundation: 'rigid',
  bestEfficiencyPoint: { flow: 100, head: 50, power: 18 },
  bearingTemperatureLimits: { warning: 80, alarm: 95 },
};

function serve(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [join(__dirname, entry)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function benchHealth(): Promise<void> {
  const env = await createTestEnvironment('benchhealth');
  const port = () => resolveGrpcPort('127.0.0.1', 0);
  const ports = { tHttp: await port(), tGrpc: await port(), rHttp: await port(), rGrpc: await port() };
  const common = env.env({ LOG_LEVEL: 'warn', OPERATOR_CLIENT_ID: OPERATOR.id, OPERATOR_CLIENT_SECRET: OPERATOR.secret });
  const tenancyUrl = `http://127.0.0.1:${ports.tHttp}`;
  const registryUrl = `http://127.0.0.1:${ports.rHttp}`;
  const jwks = `${tenancyUrl}/.well-known/jwks.json`;
  const children: ChildProcess[] = [];
  const pg = new Client({ connectionString: env.databaseUrl });
  const live = (url: string) =>
    waitFor(async () => ((await fetch(`${url}/health/live`).catch(() => undefined))?.ok ? true : undefined), 90_000, url);
  try {
    children.push(
      serve('../apps/tenancy/src/main.js', {
        ...common,
        TENANCY_HOST: '127.0.0.1',
        TENANCY_HTTP_PORT: String(ports.tHttp),
        TENANCY_GRPC_PORT: String(ports.tGrpc),
      }),
    );
    await live(tenancyUrl);
    children.push(
      serve('../apps/device-registry/src/main.js', {
        ...common,
        DEVICE_REGISTRY_HOST: '127.0.0.1',
        DEVICE_REGISTRY_HTTP_PORT: String(ports.rHttp),
        DEVICE_REGISTRY_GRPC_PORT: String(ports.rGrpc),
        AUTH_JWKS_URL: jwks,
      }),
    );
    await live(registryUrl);
    const token = async (id: string, secret: string) => {
      const res = await fetch(`${tenancyUrl}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const json = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
    const call = async (method: string, url: string, t: string, body?: unknown) => {
      const res = await fetch(url, { method, headers: json(t), body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    const op = await token(OPERATOR.id, OPERATOR.secret);
    const group = await call('POST', `${tenancyUrl}/v1/tenants`, op, {
      kind: 'group',
      name: 'Bench pumps',
      creditCode: '91350100MA2HEALT0X',
      quotas: { maxDevices: 10_000, maxTelemetryPointsPerSecond: 10_000_000 },
    });
    const tenantId = group.body.id as string;
    const gc = await call('POST', `${tenancyUrl}/v1/tenants/${tenantId}/clients`, op, {
      name: 'bench',
      scopes: ['devices:read', 'devices:write', 'models:write', 'telemetry:write', 'telemetry:read', 'maintenance:write'],
    });
    const gt = await token(gc.body.clientId as string, gc.body.clientSecret as string);
    const model = await waitFor(
      async () => {
        const r = await call('POST', `${registryUrl}/v1/models`, gt, { name: 'Bench pump', definition: MODEL });
        return r.status === 201 ? r : undefined;
      },
      30_000,
      'the registry to know the group',
    );
    const modelId = model.body.id as string;
    await call('POST', `${registryUrl}/v1/models/${modelId}/versions/1/publish`, gt, {});
    await pg.connect();
    await pg.query('SET search_path TO telemetry');

    // The same history for every run: degrading and healthy pumps alike cost one evaluation an hour.
    const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const bodies = (seed: number) => {
      const out: string[] = [];
      const batch: unknown[] = [];
      for (let ts = end - DAYS * 86_400_000, i = 0; ts <= end; ts += STEP, i++) {
        const v = 1.2 + (seed % 3) * 0.1 * (i / 144) + 0.1 * Math.sin(i * 1.7 + seed);
        batch.push({
          ts,
          values: {
            vibration: Math.round(v * 1000) / 1000,
            bearingTemp: 55 + (i % 7) / 10,
            flow: 100 + (i % 5),
            head: 50 - (i % 3) / 10,
            power: 18,
          },
        });
        if (batch.length === 1000) out.push(JSON.stringify(batch.splice(0)));
      }
      if (batch.length > 0) out.push(JSON.stringify(batch));
      return out;
    };
    const instants = Math.floor((DAYS * 86_400_000) / STEP) + 1;
    const pointsPerRun = DEVICES * instants * 5;
    const hoursPerDevice = DAYS * 24; // the hour at `end` stays open

    const results: { evaluator: boolean; storedS: number; evaluatedS?: number; evaluations?: number }[] = [];
    let telemetryPort = await port();
    for (const evaluator of [true, false]) {
      const http = `http://127.0.0.1:${telemetryPort}`;
      const child = serve('../apps/telemetry/src/main.js', {
        ...common,
        TELEMETRY_HOST: '127.0.0.1',
        TELEMETRY_HTTP_PORT: String(telemetryPort),
        TELEMETRY_GRPC_PORT: String(await port()),
        TELEMETRY_MQTT_PORT: String(await port()),
        AUTH_JWKS_URL: jwks,
        TELEMETRY_TOKEN_URL: `${tenancyUrl}/oauth/token`,
        TELEMETRY_CLIENT_ID: OPERATOR.id,
        TELEMETRY_CLIENT_SECRET: OPERATOR.secret,
        TELEMETRY_DEVICE_REGISTRY_GRPC_URL: `127.0.0.1:${ports.rGrpc}`,
        TELEMETRY_MAINTENANCE: String(evaluator),
      });
      children.push(child);
      await live(http);
      const ids: string[] = [];
      for (let i = 0; i < DEVICES; i++) {
        const d = await call('POST', `${registryUrl}/v1/devices`, gt, {
          name: `H${i}`,
          manufacturer: 'KSB',
          serial: `HEALTH-${evaluator}-${i}`,
          model: { id: modelId },
        });
        ids.push(d.body.id as string);
      }
      for (const id of ids)
        await waitFor(
          async () => ((await fetch(`${http}/v1/devices/${id}/telemetry/latest`, { headers: json(gt) })).ok ? true : undefined),
          30_000,
          'telemetry to know the devices',
        );
      const put = await call('PUT', `${http}/v1/maintenance/profiles/${modelId}`, gt, PROFILE);
      if (put.status !== 200) throw new Error(`profile: ${put.status} ${JSON.stringify(put.body)}`);
      const work = ids.map((id, k) => ({ id, bodies: bodies(k) }));
      // Per device in order (the evaluator skips what is older than it has seen): one request of a device in flight at a time.
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async (_, lane) => {
          for (let k = lane; k < work.length; k += IN_FLIGHT)
            for (const body of work[k].bodies) {
              const res = await fetch(`${http}/v1/devices/${work[k].id}/telemetry`, { method: 'POST', headers: json(gt), body });
              if (res.status !== 202) throw new Error(`ingest: ${res.status} ${await res.text()}`);
            }
        }),
      );
      const count = async (sql: string) => Number((await pg.query<{ n: string }>(sql, [ids])).rows[0].n);
      const storedAt = await waitFor(
        async () =>
          (await count(`SELECT coalesce(sum(count), 0) AS n FROM rollup_1h WHERE device_id = ANY($1::uuid[])`)) >= pointsPerRun
            ? performance.now()
            : undefined,
        600_000,
        'the points stored',
        50,
      );
      const result: (typeof results)[number] = { evaluator, storedS: (storedAt - t0) / 1000 };
      if (evaluator) {
        const evaluatedAt = await waitFor(
          async () =>
            (await count(`SELECT coalesce(sum(evaluations), 0) AS n FROM maintenance_states WHERE device_id = ANY($1::uuid[])`)) >=
            DEVICES * hoursPerDevice
              ? performance.now()
              : undefined,
          600_000,
          'every hour evaluated',
          50,
        );
        result.evaluatedS = (evaluatedAt - t0) / 1000;
        result.evaluations = await count(
          `SELECT coalesce(sum(evaluations), 0) AS n FROM maintenance_states WHERE device_id = ANY($1::uuid[])`,
        );
      }
      results.push(result);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      telemetryPort = await port();
    }

    const [on, off] = results;
    console.log(
      `\npump health in telemetry's stream — ${DEVICES} profiled pumps × ${DAYS} days of 10-minute points (${pointsPerRun.toLocaleString('en')} points a run, 5 properties an instant)`,
    );
    console.log(
      `  with the evaluator:    points stored in ${on.storedS.toFixed(1)} s (${Math.round(pointsPerRun / on.storedS).toLocaleString('en')} points/s); ${on.evaluations?.toLocaleString('en')} hourly evaluations done in ${on.evaluatedS?.toFixed(1)} s: ${Math.round((on.evaluations ?? 0) / (on.evaluatedS ?? 1)).toLocaleString('en')} evaluations/s (${Math.round(pointsPerRun / (on.evaluatedS ?? 1)).toLocaleString('en')} points/s through the evaluator)`,
    );
    console.log(
      `  without (TELEMETRY_MAINTENANCE=false, baseline): points stored in ${off.storedS.toFixed(1)} s (${Math.round(pointsPerRun / off.storedS).toLocaleString('en')} points/s)`,
    );
    console.log(
      `  the writer's throughput with the evaluator beside it: ${((100 * off.storedS) / on.storedS).toFixed(0)} % of the baseline's`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await pg.end().catch(() => undefined);
    await env.cleanup().catch(() => undefined);
  }
}

if (require.main === module) {
  benchHealth().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
