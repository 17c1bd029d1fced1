/**
 * `npm run bench -- tenancy`: what token verification costs. One tenancy process serves both
 * routes; autocannon drives the unprotected /health/live (the baseline, same app, same run) and
 * the JWT-protected /v1/whoami alternately, then a micro-benchmark measures signature checks of
 * tokens seen for the first time.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { TokenVerifier } from '@iip/platform-auth';
import { resolveGrpcPort } from '@iip/platform-grpc';
import { createTestEnvironment, waitFor } from '@iip/platform-testing';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = 2;

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, duration = DURATION_S): Promise<Measured> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

async function main(): Promise<void> {
  const env = await createTestEnvironment('bench');
  const httpPort = await resolveGrpcPort('127.0.0.1', 0);
  const grpcPort = await resolveGrpcPort('127.0.0.1', 0);
  const operator = { id: 'bench-operator', secret: 'bench-operator-secret-0123456789' };
  const child = spawn(process.execPath, [join(__dirname, '../apps/tenancy/src/main.js')], {
    env: {
      ...process.env,
      ...env.env({
        LOG_LEVEL: 'warn',
        TENANCY_HOST: '127.0.0.1',
        TENANCY_HTTP_PORT: String(httpPort),
        TENANCY_GRPC_PORT: String(grpcPort),
        OPERATOR_CLIENT_ID: operator.id,
        OPERATOR_CLIENT_SECRET: operator.secret,
      }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    await waitFor(async () => ((await fetch(`${base}/health/live`)).ok ? true : undefined), 60_000, 'tenancy to listen');
    const tokenRes = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${operator.id}:${operator.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    if (tokenRes.status !== 200) throw new Error(`token request answered ${tokenRes.status}: ${await tokenRes.text()}`);
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };
    const check = await fetch(`${base}/v1/whoami`, { headers: auth });
    if (check.status !== 200) throw new Error(`protected route answered ${check.status}: ${await check.text()}`);

    console.log(
      `tenancy bench: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per route, alternating; 2-core machine, server and load generator share it`,
    );
    await load(`${base}/health/live`, {}, 2); // warm-up
    await load(`${base}/v1/whoami`, auth, 2);
    const open: Measured[] = [];
    const guarded: Measured[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      open.push(await load(`${base}/health/live`, {}));
      guarded.push(await load(`${base}/v1/whoami`, auth));
    }
    const best = (xs: Measured[]) => xs.reduce((a, b) => (b.rps > a.rps ? b : a));
    const o = best(open);
    const g = best(guarded);
    const row = (name: string, m: Measured) =>
      `${name.padEnd(44)} ${m.rps.toFixed(0).padStart(8)} req/s   p50 ${m.p50} ms   p99 ${m.p99} ms   errors ${m.errors}`;
    console.log(row('baseline: GET /health/live (no token)', o));
    console.log(row('protected: GET /v1/whoami (Bearer JWT)', g));
    const cost = (1 - g.rps / o.rps) * 100;
    console.log(`token verification costs ${cost.toFixed(1)}% of throughput (target: under 20%) — ${cost < 20 ? 'met' : 'NOT met'}`);

    // First sight of a token: a full ES256 signature check (later uses hit the verifier's cache).
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'bench' };
    const verifier = new TokenVerifier({ issuer: 'bench', keys: () => Promise.resolve(publicKey) });
    const tokens: string[] = [];
    for (let i = 0; i < 2000; i++) {
      tokens.push(
        await new SignJWT({ scope: 'tenants:read', tid: 't', tkind: 'group', tpath: ['p', 't'] })
          .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
          .setIssuer('bench')
          .setAudience('iip')
          .setSubject(`client-${i}`)
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(privateKey),
      );
    }
    let started = performance.now();
    for (const t of tokens) await verifier.verify(t);
    const coldPerSec = tokens.length / ((performance.now() - started) / 1000);
    started = performance.now();
    for (let i = 0; i < 5; i++) for (const t of tokens) await verifier.verify(t);
    const warmPerSec = (tokens.length * 5) / ((performance.now() - started) / 1000);
    console.log(
      `verifier alone: ${coldPerSec.toFixed(0)} first-seen tokens/s (ES256 signature check), ${warmPerSec.toFixed(0)} repeat tokens/s (cached until expiry)`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await env.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
