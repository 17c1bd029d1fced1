/**
 * `npm run bench -- renewal`: in one run, with tenancy and the device registry as their own processes:
 * - a park of 200 member enterprises with 1,000,000 devices (BENCH_RENEWAL_MEMBERS, BENCH_RENEWAL_DEVICES),
 *   seeded with COPY into the devices table — so the registry's own counter triggers keep the read
 *   model, exactly as for any registration — with last-seen facts for most of them and investments;
 * - the park's indicators over HTTP from the read model (p50/p99 of 200 requests one at a time, and
 *   of 200 at 8 in flight; target p99 ≤ 200 ms);
 * - the baseline: the same figures by a direct SQL aggregate over the devices, timed, and checked
 *   to be the same numbers;
 * - then the maintenance part: health evaluations per second in telemetry's stream (./renewal-health).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { resolveGrpcPort } from '@iip/platform-grpc';
import { createTestEnvironment, waitFor } from '@iip/platform-testing';
import { benchHealth } from './renewal-health';

const MEMBERS = Number(process.env.BENCH_RENEWAL_MEMBERS ?? 200);
const DEVICES = Number(process.env.BENCH_RENEWAL_DEVICES ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_RENEWAL_REQUESTS ?? 200);
const OPERATOR = { id: 'bench-operator', secret: 'bench-operator-secret-0123456789' };
const CATEGORIES = [
  'machine-tool',
  'machine-tool',
  'machine-tool',
  'pump',
  'motor',
  'boiler',
  'compressor',
  'chiller',
  'conveyor',
  'robot',
];
const KEY_ENERGY = ['boiler', 'motor', 'transformer', 'compressor', 'pump', 'heat-exchanger', 'chiller'];

function serve(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [join(__dirname, entry)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** A valid unified social credit code (GB 32100 check character) per member. */
function creditCode(i: number): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const first17 = `91350100MA${String(i).padStart(7, '0')}`;
  const sum = [...first17].reduce((n, c, k) => n + alphabet.indexOf(c) * weights[k], 0);
  return first17 + alphabet[(31 - (sum % 31)) % 31];
}

type Ratios = Record<string, [number, number]>;

async function main(): Promise<void> {
  const env = await createTestEnvironment('benchrenewal');
  const port = () => resolveGrpcPort('127.0.0.1', 0);
  const ports = { tHttp: await port(), tGrpc: await port(), rHttp: await port(), rGrpc: await port() };
  const common = env.env({ LOG_LEVEL: 'warn', OPERATOR_CLIENT_ID: OPERATOR.id, OPERATOR_CLIENT_SECRET: OPERATOR.secret });
  const tenancyUrl = `http://127.0.0.1:${ports.tHttp}`;
  const base = `http://127.0.0.1:${ports.rHttp}`;
  const children: ChildProcess[] = [];
  const pg = new Client({ connectionString: env.databaseUrl });
  try {
    children.push(
      serve('../apps/tenancy/src/main.js', {
        ...common,
        TENANCY_HOST: '127.0.0.1',
        TENANCY_HTTP_PORT: String(ports.tHttp),
        TENANCY_GRPC_PORT: String(ports.tGrpc),
      }),
    );
    await waitFor(async () => ((await fetch(`${tenancyUrl}/health/live`)).ok ? true : undefined), 60_000, 'tenancy');
    children.push(
      serve('../apps/device-registry/src/main.js', {
        ...common,
        DEVICE_REGISTRY_HOST: '127.0.0.1',
        DEVICE_REGISTRY_HTTP_PORT: String(ports.rHttp),
        DEVICE_REGISTRY_GRPC_PORT: String(ports.rGrpc),
        AUTH_JWKS_URL: `${tenancyUrl}/.well-known/jwks.json`,
      }),
    );
    await waitFor(async () => ((await fetch(`${base}/health/live`)).ok ? true : undefined), 60_000, 'device-registry');
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
    const op = await token(OPERATOR.id, OPERATOR.secret);
    const post = async <T>(url: string, body: unknown, bearer = op): Promise<T> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as T;
      if (!res.ok && res.status !== 503) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    // The park and its members, onboarded at tenancy; the registry hears of them by events.
    const park = await post<{ id: string; path: string[] }>(`${tenancyUrl}/v1/tenants`, {
      kind: 'park',
      name: 'Bench park',
      creditCode: creditCode(0),
    });
    const members: { id: string; path: string[] }[] = [];
    for (let i = 0; i < MEMBERS; i += 8) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(8, MEMBERS - i) }, (_, k) =>
          post<{ id: string; path: string[] }>(`${tenancyUrl}/v1/tenants`, {
            kind: 'park-member',
            parentId: park.id,
            name: `Member ${i + k + 1}`,
            creditCode: creditCode(i + k + 1),
            quotas: { maxDevices: 1_000_000, maxTelemetryPointsPerSecond: 100 },
          }),
        ),
      );
      members.push(...batch);
    }
    const client = await post<{ clientId: string; clientSecret: string }>(`${tenancyUrl}/v1/tenants/${park.id}/clients`, {
      name: 'bench',
      scopes: ['renewal:read'],
    });
    const parkToken = await token(client.clientId, client.clientSecret);
    await pg.connect();
    await waitFor(
      async () => {
        const { rows } = await pg.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM device_registry.tenants WHERE path @> ARRAY[$1::uuid]`,
          [park.id],
        );
        return rows[0].n >= MEMBERS + 1 ? true : undefined;
      },
      120_000,
      'the registry to know every member',
    );
    const model = await waitFor(
      async () => {
        const res = await fetch(`${base}/v1/models`, {
          method: 'POST',
          headers: { authorization: `Bearer ${op}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'Bench equipment',
            definition: { properties: { t: { type: 'float', unit: 'Cel', access: 'read-only' } } },
          }),
        });
        return res.status === 201 ? ((await res.json()) as { id: string; tenantId: string }) : undefined;
      },
      30_000,
      'the model',
    );
    await post(`${base}/v1/models/${model.id}/versions/1/publish`, {});

    // Seed: last-seen facts first, then the devices by COPY — the insert trigger counts both.
    const seedStart = performance.now();
    const now = Date.now();
    const ids = Array.from({ length: DEVICES }, () => randomUUID());
    const memberOf = (i: number) => members[i % MEMBERS];
    const CHUNK = 100_000;
    const copy = async (sql: string, lines: (i: number) => string | undefined) => {
      for (let start = 0; start < DEVICES; start += CHUNK) {
        const end = Math.min(DEVICES, start + CHUNK);
        function* rows() {
          let buf = '';
          for (let i = start; i < end; i++) {
            const line = lines(i);
            if (line !== undefined) buf += line;
            if (buf.length > 1 << 16) {
              yield buf;
              buf = '';
            }
          }
          if (buf) yield buf;
        }
        await pipeline(Readable.from(rows()), pg.query(copyFrom(sql)));
      }
    };
    await copy(`COPY device_registry.renewal_device_activity (tenant_id, device_id, last_seen_at) FROM STDIN`, (i) =>
      i % 10 < 7
        ? `${memberOf(i).id}\t${ids[i]}\t${new Date(now - ((i * 7919) % 72) * 3_600_000 - (i % 3600) * 1000).toISOString()}\n`
        : undefined,
    );
    await copy(
      `COPY device_registry.devices (tenant_id, id, tenant_path, tenant_kind, name, manufacturer, serial, model_tenant_id, model_id, model_version, status,
         handle_suffix, category, commissioned_on, efficiency_grade, nc_capable, key_process, criticality, below_access_level) FROM STDIN`,
      (i) => {
        const m = memberOf(i);
        const category = CATEGORIES[i % CATEGORIES.length];
        const year = 1995 + ((i * 13) % 30);
        const commissioned = i % 17 === 0 ? '\\N' : `${year}-${String(1 + (i % 12)).padStart(2, '0')}-01`;
        const grade = i % 4 === 0 ? '\\N' : String(1 + (i % 3));
        return (
          [
            m.id,
            ids[i],
            `{${m.path.join(',')}}`,
            'park-member',
            `Device ${i}`,
            'Bench',
            `S-${i}`,
            model.tenantId,
            model.id,
            1,
            i % 50 === 0 ? 'decommissioned' : 'active',
            `dev.${ids[i]}`,
            category,
            commissioned,
            grade,
            i % 3 !== 0 ? 't' : 'f',
            i % 5 < 2 ? 't' : 'f',
            ['low', 'medium', 'high', 'critical'][i % 4],
            i % 97 === 0 ? 't' : 'f',
          ].join('\t') + '\n'
        );
      },
    );
    const year = new Date(now).getUTCFullYear();
    await pg.query(
      `INSERT INTO device_registry.equipment_investments (tenant_id, year, source, amount_cny)
       SELECT m, y, 'reported', (1000000 + (abs(hashtext(m::text || y)) % 500000))::numeric FROM unnest($1::uuid[]) m, unnest(ARRAY[2023, $2::int]) y`,
      [members.map((m) => m.id), year],
    );
    await pg.query('ANALYZE device_registry.devices; ANALYZE device_registry.renewal_counts; ANALYZE device_registry.renewal_seen_hours');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const { rows: counterRows } = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM device_registry.renewal_counts WHERE tenant_id = $1`,
      [park.id],
    );

    // The park's indicators over HTTP, from the read model.
    const url = `${base}/v1/renewal/indicators?tenantId=${park.id}`;
    const ask = async () => {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { authorization: `Bearer ${parkToken}` } });
      const body = (await res.json()) as { devices: number; indicators: Record<string, { numerator: number; denominator: number }> };
      if (res.status !== 200) throw new Error(`indicators answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms: performance.now() - t0, body };
    };
    for (let i = 0; i < 10; i++) await ask(); // warm-up
    const alone: number[] = [];
    let answer = (await ask()).body;
    for (let i = 0; i < REQUESTS; i++) alone.push((await ask()).ms);
    const inFlight: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (inFlight.length < REQUESTS) inFlight.push((await ask()).ms);
      }),
    );
    answer = (await ask()).body;
    alone.sort((a, b) => a - b);
    inFlight.sort((a, b) => a - b);

    // The baseline: the same figures straight from the devices.
    const rules = { maxYears: 10, minGrade: 2 };
    const nowDate = new Date();
    const cutoffMonth = nowDate.getUTCFullYear() * 12 + nowDate.getUTCMonth() - rules.maxYears * 12;
    const since = new Date(Math.floor(nowDate.getTime() / 3_600_000) * 3_600_000 - 23 * 3_600_000);
    const sqlStart = performance.now();
    const { rows: direct } = await pg.query<Record<string, number>>(
      `SELECT count(*)::float8 AS devices,
              count(*) FILTER (WHERE d.key_process)::float8 AS kp, count(*) FILTER (WHERE d.key_process AND d.nc_capable)::float8 AS kpnc,
              count(*) FILTER (WHERE date_trunc('hour', a.last_seen_at) >= $2)::float8 AS networked,
              count(*) FILTER (WHERE d.category = ANY($3))::float8 AS ke,
              count(*) FILTER (WHERE d.category = ANY($3) AND d.efficiency_grade <= $4 AND NOT d.below_access_level)::float8 AS kesaving,
              count(*) FILTER (WHERE d.category = 'machine-tool')::float8 AS mt,
              count(*) FILTER (WHERE d.category = 'machine-tool'
                AND extract(year FROM d.commissioned_on)::int * 12 + extract(month FROM d.commissioned_on)::int - 1 < $5)::float8 AS overage,
              (SELECT sum(amount_cny) FILTER (WHERE year = $6)::float8 FROM device_registry.equipment_investments i
                 JOIN device_registry.tenants t ON t.id = i.tenant_id WHERE t.path @> ARRAY[$1::uuid]) AS invested,
              (SELECT sum(amount_cny) FILTER (WHERE year = 2023)::float8 FROM device_registry.equipment_investments i
                 JOIN device_registry.tenants t ON t.id = i.tenant_id WHERE t.path @> ARRAY[$1::uuid]) AS baseline
         FROM device_registry.devices d
         LEFT JOIN device_registry.renewal_device_activity a ON a.tenant_id = d.tenant_id AND a.device_id = d.id
        WHERE d.tenant_path @> ARRAY[$1::uuid] AND d.status <> 'decommissioned'`,
      [park.id, since, KEY_ENERGY, rules.minGrade, cutoffMonth, year],
    );
    const sqlMs = performance.now() - sqlStart;
    const b = direct[0];
    const expected: Ratios = {
      keyProcessNcRate: [b.kpnc, b.kp],
      networkingRate: [b.networked, b.devices],
      energySavingShare: [b.kesaving, b.ke],
      overAgeShare: [b.overage, b.mt],
      investmentGrowth: [b.invested, b.baseline],
    };
    const got: Ratios = Object.fromEntries(Object.entries(answer.indicators).map(([k, v]) => [k, [v.numerator, v.denominator]]));
    const same =
      answer.devices === b.devices && Object.keys(expected).every((k) => got[k][0] === expected[k][0] && got[k][1] === expected[k][1]);

    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(
      `\nrenewal indicators — a park of ${MEMBERS} members, ${DEVICES.toLocaleString('en')} devices (${answer.devices.toLocaleString('en')} live)`,
    );
    console.log(
      `  seed (COPY through the counter triggers): ${seedSeconds.toFixed(1)} s; the park's counter rows: ${counterRows[0].n.toLocaleString('en')}`,
    );
    console.log(
      `  HTTP, read model, 1 in flight:  p50 ${pct(alone, 50).toFixed(1)} ms  p99 ${pct(alone, 99).toFixed(1)} ms  (${REQUESTS} requests; target p99 ≤ 200 ms: ${verdict(pct(alone, 99) <= 200)})`,
    );
    console.log(`  HTTP, read model, 8 in flight:  p50 ${pct(inFlight, 50).toFixed(1)} ms  p99 ${pct(inFlight, 99).toFixed(1)} ms`);
    console.log(`  baseline, direct SQL aggregate over the devices: ${sqlMs.toFixed(0)} ms (one run)`);
    for (const k of Object.keys(expected)) {
      console.log(`    ${k.padEnd(18)} read model ${got[k].join(' / ').padEnd(26)} direct SQL ${expected[k].join(' / ')}`);
    }
    console.log(`  same numbers: ${same ? 'yes' : 'NO'}`);
    if (!same) process.exitCode = 1;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await pg.end().catch(() => undefined);
    await env.cleanup();
  }

  // ——— The maintenance part: health evaluations per second in telemetry's stream (bench/renewal-health.ts). ———
  await benchHealth();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
