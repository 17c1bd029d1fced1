import { ChildProcess, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, startServiceProcess, waitFor } from '@iip/platform-testing';
import { RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';

const ROOT = join(__dirname, '../../..');
const ROWS = 100_000;
/** Every thousandth row is bad. */
const GOOD = ROWS - ROWS / 1000;
const SCOPES = ['tenants:read', 'devices:read', 'devices:write', 'models:write', 'identifiers:write'];

/** The rows that are bad on purpose, and how: each must come back failed, naming its line. */
const BAD: Record<number, (i: number) => string> = {
  0: () => '{"name": "broken json",',
  1: (i) => JSON.stringify({ name: `Pump ${i}`, manufacturer: 'KSB' }),
  2: (i) => JSON.stringify({ name: `Pump ${i}`, manufacturer: 'KSB', serial: `S-${i}`, model: { id: 'not-a-uuid' } }),
  3: (i) =>
    JSON.stringify({ name: `Pump ${i}`, manufacturer: 'KSB', serial: `S-${i}`, model: { id: '00000000-0000-4000-8000-000000000000' } }),
};

/**
 * A bulk import as a user runs it against a real registry process: 100,000 rows with 100 bad
 * ones, the process killed (SIGKILL) mid-job and started again, then the same file again.
 */
describe('device registry: bulk import survives a kill, names bad rows, creates nothing twice', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let registry: { child: ChildProcess; url: string } | undefined;
  let token: string;
  let tenantId: string;
  let body: string;
  const badLines: number[] = [];

  /** The registry as its own process (built to dist/), so a test can kill it for real. */
  const startRegistry = () =>
    startServiceProcess(
      join(ROOT, 'dist/apps/device-registry/src/main.js'),
      'device-registry',
      env.env({
        DEVICE_REGISTRY_HOST: '127.0.0.1',
        DEVICE_REGISTRY_HTTP_PORT: '0',
        DEVICE_REGISTRY_GRPC_PORT: '0',
        DEVICE_REGISTRY_IMPORT_POLL_MS: '200',
        AUTH_JWKS_URL: `${tenancy.httpUrl}/.well-known/jwks.json`,
        LOG_LEVEL: 'info',
      }),
    );

  function registryUrl(): string {
    if (!registry) throw new Error('the registry is not running');
    return registry.url;
  }

  async function kill(r: { child: ChildProcess }): Promise<void> {
    if (r.child.exitCode !== null) return;
    r.child.kill('SIGKILL');
    await once(r.child, 'exit');
  }

  const job = async (id: string) => (await request(registryUrl()).get(`/v1/device-imports/${id}`).auth(token, { type: 'bearer' })).body;
  const finished = (id: string, timeoutMs: number) =>
    waitFor(
      async () => {
        const j = await job(id);
        return j.status === 'completed' ? j : undefined;
      },
      timeoutMs,
      'the import to complete',
      250,
    );
  const devicesInDb = async () => {
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ n: number; distinct_serials: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT (manufacturer, serial))::int AS distinct_serials FROM device_registry.devices WHERE tenant_id = $1`,
        [tenantId],
      );
      return rows[0];
    } finally {
      await pg.end();
    }
  };
  const upload = () =>
    request(registryUrl())
      .post('/v1/device-imports')
      .auth(token, { type: 'bearer' })
      .set('Content-Type', 'application/x-ndjson')
      .send(body);

  beforeAll(async () => {
    env = await createTestEnvironment('devimport');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    // The registry runs from dist/, as `npm start` runs it.
    const built = spawnSync(process.execPath, ['-e', "import('./scripts/build.mjs').then((m) => m.build())"], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (built.status !== 0) throw new Error('the build failed');
    const op = await operatorToken(tenancy);
    const group = await createTenant(tenancy, op, { kind: 'group', quotas: { maxDevices: 500_000, maxTelemetryPointsPerSecond: 1000 } });
    tenantId = group.id;
    token = (await clientToken(tenancy, op, group.id, SCOPES)).token;
    registry = await startRegistry();
    const model = await waitFor(
      async () => {
        const res = await request(registryUrl())
          .post('/v1/models')
          .auth(token, { type: 'bearer' })
          .send({ name: 'Pump', definition: { properties: { temperature: { type: 'float', unit: 'Cel', access: 'read-only' } } } });
        return res.status === 503 ? undefined : res;
      },
      20_000,
      'the registry to know the group',
    );
    await request(registry.url).post(`/v1/models/${model.body.id}/versions/1/publish`).auth(token, { type: 'bearer' });
    const lines: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      if (i % 1000 === 999) {
        lines.push(BAD[((i / 1000) % 4) | 0](i));
        badLines.push(i + 1);
      } else {
        lines.push(
          JSON.stringify({
            name: `Pump ${i}`,
            manufacturer: i % 2 ? 'KSB' : 'Grundfos',
            serial: `S-${i}`,
            model: { id: model.body.id },
            tags: { line: `L${i % 20}` },
            profile: { category: 'pump', commissionedOn: '2012-05-01', ratedPowerKw: 30 + (i % 50), efficiencyGrade: 1 + (i % 3) },
          }),
        );
      }
    }
    body = lines.join('\n') + '\n';
  });

  afterAll(async () => {
    if (registry) await kill(registry);
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  it('imports 100,000 rows through a SIGKILL, reports the 100 bad ones by line, and a second run creates nothing', async () => {
    const started = Date.now();
    const res = await upload();
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'running', total: ROWS });
    const id = res.body.id as string;

    // Kill the process part-way through, then start it again: it resumes after the last committed chunk.
    const partial = await waitFor(
      async () => {
        const j = await job(id);
        return j.processed >= 20_000 ? j : undefined;
      },
      120_000,
      'a fifth of the import',
      100,
    );
    if (registry) await kill(registry);
    expect(partial.processed).toBeLessThan(ROWS);
    registry = await startRegistry();
    const done = await finished(id, 240_000);
    const seconds = (Date.now() - started) / 1000;
    console.log(`import of ${ROWS} rows with a kill in between: ${seconds.toFixed(1)} s (${Math.round((ROWS / seconds) * 60)} rows/min)`);
    expect(done).toMatchObject({ total: ROWS, processed: ROWS, created: GOOD, existing: 0, failed: ROWS / 1000 });
    expect(await devicesInDb()).toEqual({ n: GOOD, distinct_serials: GOOD });

    // Each bad row, by its line, with a reason.
    const failedRows: { line: number; error: { code: string } }[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(registryUrl())
        .get(`/v1/device-imports/${id}/results`)
        .query({ status: 'failed', limit: 200, ...(cursor ? { cursor } : {}) })
        .auth(token, { type: 'bearer' });
      failedRows.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(failedRows.map((r) => r.line)).toEqual(badLines);
    expect(new Set(failedRows.map((r) => r.error.code))).toEqual(new Set(['ROW_UNREADABLE', 'VALIDATION_FAILED', 'MODEL_NOT_FOUND']));

    // The same file again: every good row exists already.
    const again = await upload();
    const second = await finished(again.body.id as string, 120_000);
    expect(second).toMatchObject({ created: 0, existing: GOOD, failed: ROWS / 1000 });
    expect(await devicesInDb()).toEqual({ n: GOOD, distinct_serials: GOOD });

    // Every device got exactly one identifier, allocated in batches by identifier.
    const prefix = await enterprisePrefixOf(node.httpUrl, token);
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    try {
      const counted = await waitFor(
        async () => {
          const { rows } = await pg.query<{ n: number; distinct_keys: number }>(
            `SELECT count(*)::int AS n, count(DISTINCT key)::int AS distinct_keys FROM identifier.identifiers WHERE prefix = $1`,
            [prefix],
          );
          return rows[0].n >= GOOD ? rows[0] : undefined;
        },
        180_000,
        'an identifier for every device',
        500,
      );
      console.log(`identifiers for all ${GOOD} devices after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(counted).toEqual({ n: GOOD, distinct_keys: GOOD });
    } finally {
      await pg.end();
    }
  }, 480_000);
});
