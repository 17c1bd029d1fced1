/**
 * `npm run bench -- device-registry`: in one run, with tenancy, identifier and the registry as
 * their own processes on this 2-core machine (shared with PostgreSQL, Kafka and the generators):
 * - bulk import: devices per minute from the upload until identifier has registered every device's identifier;
 * - cached AuthenticateDevice per second over gRPC, beside a bare grpc-js server answering the same call;
 * - twin reported updates per second (PATCH, distinct devices), beside a bare Node http server;
 * - fleet-query latency with 1,000,000 devices stored (the issue's example query), one query at a
 *   time (the target) and 8 in flight.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Client } from 'pg';
import { DeviceRegistryV1 } from '@iip/contracts';
import { resolveGrpcPort } from '@iip/platform-grpc';
import { createTestEnvironment, waitFor } from '@iip/platform-testing';
import { closedLoopGrpc, grpcFrame } from './grpc-load';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const FLEET = Number(process.env.BENCH_FLEET ?? 1_000_000);
const OPERATOR = { id: 'bench-operator', secret: 'bench-operator-secret-0123456789' };
const FLEET_QUERY = "reported.temperature > 80 AND tags.line = 'L1' AND profile.category = 'pump'";

function serve(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [join(__dirname, entry)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** A valid unified social credit code (GB 32100-2015, check character included) for the bench's group; each run has a fresh database. */
const BENCH_CREDIT_CODE = '91350100MA2BENCH0E';

/** The port a baseline server prints first. */
async function firstLine(child: ChildProcess): Promise<string> {
  if (!child.stdout) throw new Error('the baseline server has no stdout');
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return chunk.toString();
}

const row = (name: string, m: { rps: number; p50: number; p99: number; errors: number }) =>
  `${name.padEnd(60)} ${m.rps.toFixed(0).padStart(8)} /s   p50 ${String(m.p50).padStart(6)} ms   p99 ${String(m.p99).padStart(6)} ms   errors ${m.errors}`;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function http(options: autocannon.Options) {
  const r = await autocannon({ connections: CONNECTIONS, duration: DURATION_S, ...options });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

async function main(): Promise<void> {
  const env = await createTestEnvironment('benchdev');
  const port = () => resolveGrpcPort('127.0.0.1', 0);
  const ports = {
    tenancyHttp: await port(),
    tenancyGrpc: await port(),
    idHttp: await port(),
    idGrpc: await port(),
    http: await port(),
    grpc: await port(),
  };
  const common = env.env({ LOG_LEVEL: 'warn', OPERATOR_CLIENT_ID: OPERATOR.id, OPERATOR_CLIENT_SECRET: OPERATOR.secret });
  const tenancyUrl = `http://127.0.0.1:${ports.tenancyHttp}`;
  const base = `http://127.0.0.1:${ports.http}`;
  const children: ChildProcess[] = [];
  const pg = new Client({ connectionString: env.databaseUrl });
  try {
    children.push(
      serve('../apps/tenancy/src/main.js', {
        ...common,
        TENANCY_HOST: '127.0.0.1',
        TENANCY_HTTP_PORT: String(ports.tenancyHttp),
        TENANCY_GRPC_PORT: String(ports.tenancyGrpc),
      }),
    );
    await waitFor(async () => ((await fetch(`${tenancyUrl}/health/live`)).ok ? true : undefined), 60_000, 'tenancy');
    const jwks = `${tenancyUrl}/.well-known/jwks.json`;
    children.push(
      serve('../apps/identifier/src/main.js', {
        ...common,
        IDENTIFIER_HOST: '127.0.0.1',
        IDENTIFIER_HTTP_PORT: String(ports.idHttp),
        IDENTIFIER_GRPC_PORT: String(ports.idGrpc),
        IDENTIFIER_HANDLE_PORT: String(await port()),
        IDENTIFIER_HANDLE_HTTP_PORT: String(await port()),
        AUTH_JWKS_URL: jwks,
      }),
    );
    children.push(
      serve('../apps/device-registry/src/main.js', {
        ...common,
        DEVICE_REGISTRY_HOST: '127.0.0.1',
        DEVICE_REGISTRY_HTTP_PORT: String(ports.http),
        DEVICE_REGISTRY_GRPC_PORT: String(ports.grpc),
        DEVICE_REGISTRY_IMPORT_POLL_MS: '200',
        AUTH_JWKS_URL: jwks,
      }),
    );
    await waitFor(async () => ((await fetch(`${base}/health/live`)).ok ? true : undefined), 60_000, 'device-registry');
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${ports.idHttp}/health/live`)).ok ? true : undefined), 60_000, 'identifier');
    const tokenRes = await fetch(`${tenancyUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${OPERATOR.id}:${OPERATOR.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token: op } = (await tokenRes.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${op}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const group = await fetch(`${tenancyUrl}/v1/tenants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        kind: 'group',
        name: 'Bench group',
        creditCode: BENCH_CREDIT_CODE,
        quotas: { maxDevices: 5_000_000, maxTelemetryPointsPerSecond: 1000 },
      }),
    }).then(async (r) => (await r.json()) as { id: string; path: string[] });
    if (!group.id) throw new Error(`bench group not created: ${JSON.stringify(group)}`);
    const groupClient = (await fetch(`${tenancyUrl}/v1/tenants/${group.id}/clients`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'bench', scopes: ['devices:read', 'devices:write', 'models:write'] }),
    }).then((r) => r.json())) as { clientId: string; clientSecret: string };
    const gt = await fetch(`${tenancyUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${groupClient.clientId}:${groupClient.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const gauth = { authorization: `Bearer ${gt.access_token}`, 'content-type': 'application/json' };
    const model = await waitFor(
      async () => {
        const r = await call(
          'POST',
          '/v1/models',
          {
            name: 'Bench pump',
            definition: { properties: { temperature: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' } } },
          },
          gauth,
        );
        return r.status === 201 ? r.body : undefined;
      },
      30_000,
      'the registry to know the group',
    );
    await call('POST', `/v1/models/${model.id as string}/versions/1/publish`, {}, gauth);

    // 1. Bulk import, until every identifier is registered.
    const lines: string[] = [];
    for (let i = 0; i < IMPORT_ROWS; i++) {
      lines.push(
        JSON.stringify({
          name: `Pump ${i}`,
          manufacturer: 'KSB',
          serial: `B-${i}`,
          model: { id: model.id },
          tags: { line: `L${i % 20}` },
          profile: { category: i % 3 ? 'motor' : 'pump' },
        }),
      );
    }
    await pg.connect();
    const started = performance.now();
    const job = await call('POST', '/v1/device-imports', lines.join('\n'), { ...gauth, 'content-type': 'application/x-ndjson' });
    if (job.status !== 202) throw new Error(`import refused: ${JSON.stringify(job.body)}`);
    await waitFor(
      async () =>
        (await call('GET', `/v1/device-imports/${job.body.id as string}`, undefined, gauth)).body.status === 'completed' ? true : undefined,
      600_000,
      'the import',
    );
    const importedAfter = (performance.now() - started) / 1000;
    await waitFor(
      async () => {
        const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM identifier.identifiers WHERE handle LIKE '%/dev.%'`);
        return rows[0].n >= IMPORT_ROWS ? true : undefined;
      },
      600_000,
      'every identifier',
    );
    const identifiedAfter = (performance.now() - started) / 1000;
    const perMinute = (IMPORT_ROWS / identifiedAfter) * 60;

    // 2. AuthenticateDevice, cached, against the bare grpc-js baseline.
    const { rows: someDevices } = await pg.query<{ id: string }>(`SELECT id FROM device_registry.devices ORDER BY id LIMIT 100`);
    const frames: Buffer[] = [];
    for (const d of someDevices) {
      const issued = await call('POST', `/v1/devices/${d.id}/credentials`, { kind: 'secret' }, gauth);
      await call('POST', `/v1/devices/${d.id}/lifecycle`, { status: 'active' }, gauth);
      frames.push(
        grpcFrame(
          DeviceRegistryV1.AuthenticateDeviceRequest.encode({
            deviceId: d.id,
            secret: issued.body.secret as string,
            certificateFingerprint: '',
          }).finish(),
        ),
      );
    }
    const baselineChild = serve('./grpc-baseline-server.js', { BASELINE: 'device-registry' });
    children.push(baselineChild);
    const portLine = await firstLine(baselineChild);
    const path = DeviceRegistryV1.DeviceRegistryServiceService.authenticateDevice.path;
    const grpcOptions = { durationS: DURATION_S, inFlight: CONNECTIONS, channels: 4, headers: { authorization: `Bearer ${op}` } };
    await closedLoopGrpc(`127.0.0.1:${ports.grpc}`, path, frames, { ...grpcOptions, durationS: 1 }); // warm-up: fills the credential cache
    const authBaseline = await closedLoopGrpc(`127.0.0.1:${portLine.toString().trim()}`, path, frames, grpcOptions);
    const authCached = await closedLoopGrpc(`127.0.0.1:${ports.grpc}`, path, frames, grpcOptions);

    // 3. Twin updates: distinct devices, a reported temperature each.
    const { rows: twinDevices } = await pg.query<{ id: string }>(`SELECT id FROM device_registry.devices ORDER BY id DESC LIMIT 1000`);
    let t = 0;
    const httpBaselineChild = serve('./baseline-server.js', {});
    children.push(httpBaselineChild);
    const httpPortLine = await firstLine(httpBaselineChild);
    const httpBaseline = await http({ url: `http://127.0.0.1:${httpPortLine.toString().trim()}` });
    const twins = await http({
      url: base,
      headers: gauth,
      requests: [
        {
          method: 'PATCH',
          setupRequest: (req) => ({
            ...req,
            path: `/v1/devices/${twinDevices[t++ % twinDevices.length].id}/twin/reported`,
            body: JSON.stringify({ temperature: 20 + (t % 100) }),
          }),
        },
      ],
    });

    // 4. Fleet query at FLEET devices: the rest seeded by SQL, each with a reported temperature.
    const seedStart = performance.now();
    const more = FLEET - IMPORT_ROWS;
    await pg.query(
      `INSERT INTO device_registry.devices (tenant_id, id, tenant_path, tenant_kind, name, manufacturer, serial, model_tenant_id, model_id, model_version, status, handle_suffix, tags, category)
       SELECT $1, gen_random_uuid(), $2::uuid[], 'group', 'Seeded ' || g, 'Seed', 'S-' || g, $1, $3, 1, 'active', 'dev.seed' || g,
              jsonb_build_object('line', 'L' || (g % 20)), CASE WHEN g % 3 = 0 THEN 'pump' ELSE 'motor' END
         FROM generate_series(1, $4::int) g`,
      [group.id, group.path, model.id, more],
    );
    await pg.query(
      `INSERT INTO device_registry.twins (tenant_id, device_id, reported, reported_version)
       SELECT d.tenant_id, d.id, jsonb_build_object('temperature', (abs(hashtext(d.id::text)) % 120)), 1 FROM device_registry.devices d
       ON CONFLICT DO NOTHING`,
    );
    await pg.query('ANALYZE device_registry.devices; ANALYZE device_registry.twins');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const check = await call('GET', `/v1/fleet/devices?limit=50&q=${encodeURIComponent(FLEET_QUERY)}`, undefined, gauth);
    if (check.status !== 200 || (check.body.items as unknown[]).length === 0)
      throw new Error(`fleet query answered ${check.status}: ${JSON.stringify(check.body).slice(0, 300)}`);
    // Latency of one query at a time (the target), and under 8 in flight on this 2-core machine.
    const fleetUrl = `${base}/v1/fleet/devices?limit=50&q=${encodeURIComponent(FLEET_QUERY)}`;
    const fleetAlone = await http({ url: fleetUrl, headers: gauth, connections: 1 });
    const fleet = await http({ url: fleetUrl, headers: gauth, connections: 8 });
    const counts = await http({
      url: `${base}/v1/fleet/counts?groupBy=status&q=${encodeURIComponent(FLEET_QUERY)}`,
      headers: gauth,
      connections: 8,
    });

    console.log(`device-registry bench: ${DURATION_S} s per measurement, ${CONNECTIONS} in flight; 2-core machine shared by every process`);
    console.log(
      `bulk import of ${IMPORT_ROWS.toLocaleString('en')} devices: imported in ${importedAfter.toFixed(1)} s, every identifier registered after ${identifiedAfter.toFixed(1)} s: ${perMinute.toFixed(0)} devices/min including identifier allocation`,
    );
    console.log(row('gRPC baseline: bare grpc-js, fixed AuthenticateDevice answer', authBaseline));
    console.log(row('gRPC AuthenticateDevice, cached (100 devices)', authCached));
    console.log(row('baseline: bare Node http, fixed JSON', httpBaseline));
    console.log(row('twin reported updates (PATCH, 1,000 devices)', twins));
    console.log(
      `seeded ${more.toLocaleString('en')} more devices and ${FLEET.toLocaleString('en')} twins by SQL in ${seedSeconds.toFixed(1)} s`,
    );
    console.log(row(`fleet query at ${FLEET.toLocaleString('en')} devices (1 in flight)`, fleetAlone));
    console.log(row(`fleet query at ${FLEET.toLocaleString('en')} devices (8 in flight)`, fleet));
    console.log(row(`fleet counts at ${FLEET.toLocaleString('en')} devices (8 in flight)`, counts));
    console.log(
      `targets: import ≥ 100,000 devices/min: ${verdict(perMinute >= 100_000)}; fleet-query p99 ≤ 50 ms (1 in flight): ${verdict(fleetAlone.p99 <= 50)}; AuthenticateDevice / bare grpc-js: ${(authCached.rps / authBaseline.rps).toFixed(2)}`,
    );
  } finally {
    await pg.end().catch(() => undefined);
    for (const child of children.reverse()) {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
    await env.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
