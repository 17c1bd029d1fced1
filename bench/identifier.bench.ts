/**
 * `npm run bench -- identifier`: resolution throughput and latency of one identifier node, over
 * REST, gRPC and the native Handle protocol (RFC 3652, over UDP and TCP), cached and uncached,
 * with 1,000 and 1,000,000 stored identifiers; batch registration throughput; and, in the same
 * run, the baselines under the same load generators: a
 * bare Node http server answering a fixed JSON body (REST) and a bare grpc-js server answering a
 * fixed ResolveResponse (gRPC). Server processes run apart from the load generator, but all share
 * this machine's cores.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import * as http2 from 'node:http2';
import { once } from 'node:events';
import { join } from 'node:path';
import { Client } from 'pg';
import { IdentifierV1 } from '@iip/contracts';
import { resolveGrpcPort } from '@iip/platform-grpc';
import { createTestEnvironment, waitFor } from '@iip/platform-testing';
import { NativeMeasured, nativeLoad } from './native-load';
import { closedLoopGrpc, grpcCall, grpcFrame } from './grpc-load';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LARGE = Number(process.env.BENCH_LARGE ?? 1_000_000);
const BATCH_CLIENTS = Number(process.env.BENCH_BATCH_CLIENTS ?? 4);
/** BENCH_BATCH_ONLY=1: measure batch registration from one client and stop (for profiling it alone). */
const BATCH_ONLY = process.env.BENCH_BATCH_ONLY === '1';
/** Native Handle requests in flight (over TCP, spread over NATIVE_CONNECTIONS pipelined connections). */
const NATIVE_IN_FLIGHT = Number(process.env.BENCH_NATIVE_IN_FLIGHT ?? 64);
const NATIVE_CONNECTIONS = Number(process.env.BENCH_NATIVE_CONNECTIONS ?? 4);
const OPERATOR = { id: 'bench-operator', secret: 'bench-operator-secret-0123456789' };

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Extra Node flags for the server processes, e.g. BENCH_SERVER_NODE_ARGS=--cpu-prof to profile them under this load. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

function serve(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...SERVER_NODE_ARGS, join(__dirname, entry)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function http(url: string, handles: string[], headers: Record<string, string> = {}, query = ''): Promise<Measured> {
  let i = 0;
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers,
    requests: [{ setupRequest: (req) => ({ ...req, path: `/api/handles/${handles[i++ % handles.length]}${query}` }) }],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** HTTP/2 connections the gRPC load is spread over (the in-flight count stays CONNECTIONS). */
const GRPC_CHANNELS = Number(process.env.BENCH_GRPC_CHANNELS ?? 4);
const RESOLVE_PATH = IdentifierV1.IdentifierServiceService.resolve.path;

function grpcLoad(url: string, handles: string[], authoritative: boolean): Promise<Measured> {
  const frames = handles.map((handle) =>
    grpcFrame(IdentifierV1.ResolveRequest.encode({ handle, types: [], indexes: [], authoritative }).finish()),
  );
  return closedLoopGrpc(url, RESOLVE_PATH, frames, { durationS: DURATION_S, inFlight: CONNECTIONS, channels: GRPC_CHANNELS });
}

/**
 * The cached anonymous answer over gRPC (what the cached rows measure) must be the one the full
 * path gives from PostgreSQL (authoritative): a bench of a path that answers something else would
 * measure nothing.
 */
async function checkGrpcAnswers(url: string, handles: string[]): Promise<void> {
  const session = http2.connect(`http://${url}`);
  try {
    for (const handle of handles) {
      const ask = (authoritative: boolean) =>
        grpcCall(
          session,
          RESOLVE_PATH,
          grpcFrame(IdentifierV1.ResolveRequest.encode({ handle, types: [], indexes: [], authoritative }).finish()),
          (b) => IdentifierV1.ResolveResponse.decode(b),
        );
      const [cached, authoritative] = [await ask(false), await ask(true)];
      if (!cached || JSON.stringify(cached) !== JSON.stringify(authoritative))
        throw new Error(
          `gRPC answers for ${handle} differ: cached ${JSON.stringify(cached)}, authoritative ${JSON.stringify(authoritative)}`,
        );
    }
  } finally {
    session.close();
  }
}

const row = (name: string, m: Measured) =>
  `${name.padEnd(58)} ${m.rps.toFixed(0).padStart(8)} /s   p50 ${String(m.p50).padStart(5)} ms   p99 ${String(m.p99).padStart(5)} ms   errors ${m.errors}`;
const nativeRow = (name: string, m: NativeMeasured) => `${row(name, m)} (lost ${m.lost})`;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function main(): Promise<void> {
  const env = await createTestEnvironment('benchid');
  const ports = {
    tenancyHttp: await resolveGrpcPort('127.0.0.1', 0),
    tenancyGrpc: await resolveGrpcPort('127.0.0.1', 0),
    http: await resolveGrpcPort('127.0.0.1', 0),
    grpc: await resolveGrpcPort('127.0.0.1', 0),
    handle: await resolveGrpcPort('127.0.0.1', 0), // TCP and UDP
    handleHttp: await resolveGrpcPort('127.0.0.1', 0),
  };
  const common = env.env({ LOG_LEVEL: 'warn', OPERATOR_CLIENT_ID: OPERATOR.id, OPERATOR_CLIENT_SECRET: OPERATOR.secret });
  const tenancyUrl = `http://127.0.0.1:${ports.tenancyHttp}`;
  const children: ChildProcess[] = [];
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
    children.push(
      serve('../apps/identifier/src/main.js', {
        ...common,
        IDENTIFIER_HOST: '127.0.0.1',
        IDENTIFIER_HTTP_PORT: String(ports.http),
        IDENTIFIER_GRPC_PORT: String(ports.grpc),
        IDENTIFIER_HANDLE_PORT: String(ports.handle),
        IDENTIFIER_HANDLE_HTTP_PORT: String(ports.handleHttp),
        IDENTIFIER_NODE_PREFIX: '88.100',
        AUTH_JWKS_URL: `${tenancyUrl}/.well-known/jwks.json`,
      }),
    );
    const base = `http://127.0.0.1:${ports.http}`;
    await waitFor(async () => ((await fetch(`${base}/health/live`)).ok ? true : undefined), 60_000, 'identifier');
    const tokenRes = await fetch(`${tenancyUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${OPERATOR.id}:${OPERATOR.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const batch = async (from: number, count: number) => {
      const items = Array.from({ length: count }, (_, k) => ({
        handle: `88.100/BENCH-${String(from + k).padStart(7, '0')}`,
        values: [
          { index: 1, type: 'URL', data: { format: 'string', value: `https://example.com/bench/${from + k}` } },
          { index: 2, type: 'SERIAL', data: { format: 'string', value: `SN-${from + k}` } },
        ],
      }));
      const res = await fetch(`${base}/v1/identifiers/batch`, { method: 'POST', headers: auth, body: JSON.stringify({ items }) });
      const body = (await res.json()) as { created?: number };
      if (res.status !== 200 || body.created !== count)
        throw new Error(`batch answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
    };
    // The platform operator owns the node prefix once tenancy's first event has reached the node.
    await waitFor(
      async () =>
        batch(0, 1000)
          .then(() => true)
          .catch(() => undefined),
      60_000,
      'the operator to own 88.100',
    );
    if (BATCH_ONLY) {
      for (let b = 0; b < 8; b++) await batch(1000 + b * 5000, 5000); // warm-up
      const started = performance.now();
      for (let b = 8; b < 16; b++) {
        const t = performance.now();
        await batch(1000 + b * 5000, 5000);
        console.log(`batch ${b}: ${(performance.now() - t).toFixed(0)} ms`);
      }
      console.log(
        `batch registration (5,000 per request, 2 values each): ${(40_000 / ((performance.now() - started) / 1000)).toFixed(0)} identifiers/s from 1 client`,
      );
      return;
    }

    // Baseline under the same load generator.
    const baseline = serve('./baseline-server.js', {});
    children.push(baseline);
    if (!baseline.stdout) throw new Error('baseline server has no stdout');
    const [portLine] = (await once(baseline.stdout, 'data')) as [Buffer];
    const baselineUrl = `http://127.0.0.1:${portLine.toString().trim()}`;
    const grpcBaseline = serve('./grpc-baseline-server.js', {});
    children.push(grpcBaseline);
    if (!grpcBaseline.stdout) throw new Error('gRPC baseline server has no stdout');
    const [grpcPortLine] = (await once(grpcBaseline.stdout, 'data')) as [Buffer];
    const grpcBaselineUrl = `127.0.0.1:${grpcPortLine.toString().trim()}`;

    const small = Array.from({ length: 1000 }, (_, k) => `88.100/BENCH-${String(k).padStart(7, '0')}`);
    console.log(
      `identifier bench: ${CONNECTIONS} concurrent requests (gRPC: over ${GRPC_CHANNELS} HTTP/2 connections; native Handle: ${NATIVE_IN_FLIGHT} in flight, TCP over ${NATIVE_CONNECTIONS} pipelined connections), ${DURATION_S} s per measurement; 2-core machine shared by servers and load generator`,
    );
    /** Native resolution of `handles`, after a short warm-up of the same load (the generator's code, the node's cache). */
    const native = async (transport: 'udp' | 'tcp', handles: string[]): Promise<NativeMeasured> => {
      const load = (durationMs: number) =>
        nativeLoad({
          host: '127.0.0.1',
          port: ports.handle,
          transport,
          handles,
          durationMs,
          concurrency: NATIVE_IN_FLIGHT,
          connections: NATIVE_CONNECTIONS,
        });
      await load(1000);
      return load(DURATION_S * 1000);
    };
    await http(base, small, {}, ''); // warm-up: fills the caches
    const results: Record<string, Measured> = {};
    results.baseline = await http(baselineUrl, small);
    results.restCached1k = await http(base, small);
    const nativeResults: Record<string, NativeMeasured> = {};
    nativeResults.udpCached1k = await native('udp', small);
    nativeResults.tcpCached1k = await native('tcp', small);
    results.grpcBaseline = await grpcLoad(grpcBaselineUrl, small, false);
    await checkGrpcAnswers(`127.0.0.1:${ports.grpc}`, small.slice(0, 3));
    results.grpcCached1k = await grpcLoad(`127.0.0.1:${ports.grpc}`, small, false);
    results.restUncached1k = await http(base, small, {}, '?auth=true');

    // Batch registration throughput: 5,000 identifiers per request, one client after another and then concurrent clients.
    let next = 1000;
    const batches = async (count: number, clients: number): Promise<number> => {
      const started = performance.now();
      let left = count;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (left-- > 0) {
            const from = next;
            next += 5000;
            await batch(from, 5000);
          }
        }),
      );
      return (count * 5000) / ((performance.now() - started) / 1000);
    };
    const batchSequential = await batches(8, 1);
    const batchConcurrent = await batches(12, BATCH_CLIENTS);
    const registered = next - 1000;
    const batchesDone = performance.now();

    // Grow to LARGE stored identifiers directly in PostgreSQL (registration speed was measured above).
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    // Resolution is measured once the registrations' events have all reached Kafka (not while the relay catches up); how long that takes is the relay's throughput.
    await waitFor(
      async () => {
        const { rows } = await pg.query<{ n: string }>('SELECT count(*) AS n FROM identifier.outbox WHERE published_at IS NULL');
        return rows[0].n === '0' ? true : undefined;
      },
      300_000,
      'the outbox to drain',
    );
    const drainedAfter = (performance.now() - batchesDone) / 1000;
    const seedStart = performance.now();
    await pg.query(
      `INSERT INTO identifier.identifiers (key, handle, prefix, tenant_id)
       SELECT '88.100/seed-' || g, '88.100/SEED-' || g, '88.100', (SELECT tenant_id FROM identifier.prefixes WHERE prefix = '88.100')
         FROM generate_series(1, $1::int) g`,
      [LARGE - 1000 - registered],
    );
    await pg.query(
      `INSERT INTO identifier.identifier_values (key, idx, type, format, value, ttl, access)
       SELECT '88.100/seed-' || g, 1, 'URL', 'string', to_jsonb('https://example.com/seed/' || g), 86400, 'public' FROM generate_series(1, $1::int) g`,
      [LARGE - 1000 - registered],
    );
    await pg.query('ANALYZE identifier.identifiers; ANALYZE identifier.identifier_values');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    await pg.end();
    const spread = Array.from(
      { length: 10_000 },
      (_, k) => `88.100/SEED-${1 + Math.floor(((k * 7919) % 10_000) * ((LARGE - 1000 - registered) / 10_000))}`,
    );
    await http(base, spread, {}, ''); // warm-up at 1M
    results.restCached1m = await http(base, spread);
    nativeResults.udpCached1m = await native('udp', spread);
    nativeResults.tcpCached1m = await native('tcp', spread);
    await checkGrpcAnswers(`127.0.0.1:${ports.grpc}`, spread.slice(0, 3));
    results.grpcCached1m = await grpcLoad(`127.0.0.1:${ports.grpc}`, spread, false);
    results.restUncached1m = await http(base, spread, {}, '?auth=true');
    results.grpcUncached1m = await grpcLoad(`127.0.0.1:${ports.grpc}`, spread, true);

    console.log(row('baseline: bare Node http, fixed JSON', results.baseline));
    console.log(row('REST cached, 1,000 stored', results.restCached1k));
    console.log(nativeRow('native UDP cached, 1,000 stored', nativeResults.udpCached1k));
    console.log(nativeRow('native TCP cached, 1,000 stored', nativeResults.tcpCached1k));
    console.log(row('gRPC baseline: bare grpc-js, fixed ResolveResponse', results.grpcBaseline));
    console.log(row('gRPC cached, 1,000 stored', results.grpcCached1k));
    console.log(row('REST uncached (auth=true), 1,000 stored', results.restUncached1k));
    console.log(row(`REST cached, ${LARGE.toLocaleString('en')} stored`, results.restCached1m));
    console.log(nativeRow(`native UDP cached, ${LARGE.toLocaleString('en')} stored`, nativeResults.udpCached1m));
    console.log(nativeRow(`native TCP cached, ${LARGE.toLocaleString('en')} stored`, nativeResults.tcpCached1m));
    console.log(row(`gRPC cached, ${LARGE.toLocaleString('en')} stored`, results.grpcCached1m));
    console.log(row(`REST uncached (auth=true), ${LARGE.toLocaleString('en')} stored`, results.restUncached1m));
    console.log(row(`gRPC uncached, ${LARGE.toLocaleString('en')} stored`, results.grpcUncached1m));
    console.log(
      `batch registration (5,000 per request, 2 values each): ${batchSequential.toFixed(0)} identifiers/s from 1 client, ${batchConcurrent.toFixed(0)} identifiers/s from ${BATCH_CLIENTS} concurrent clients`,
    );
    console.log(
      `${registered.toLocaleString('en')} registration events all in Kafka ${drainedAfter.toFixed(1)} s after the last batch; seeding ${(LARGE - 1000 - registered).toLocaleString('en')} more identifiers by SQL took ${seedSeconds.toFixed(1)} s`,
    );
    const cached = Math.min(results.restCached1k.rps, results.restCached1m.rps);
    const worstP99 = Math.max(results.restCached1k.p99, results.restCached1m.p99);
    const grpcCached = Math.min(results.grpcCached1k.rps, results.grpcCached1m.rps);
    console.log(
      `gRPC cached / bare grpc-js: ${(results.grpcCached1k.rps / results.grpcBaseline.rps).toFixed(2)} (1,000 stored), ${(results.grpcCached1m.rps / results.grpcBaseline.rps).toFixed(2)} (${LARGE.toLocaleString('en')} stored); target ≥ 0.5: ${verdict(grpcCached >= results.grpcBaseline.rps / 2)}`,
    );
    const udpToRest = [nativeResults.udpCached1k.rps / results.restCached1k.rps, nativeResults.udpCached1m.rps / results.restCached1m.rps];
    console.log(
      `native UDP cached / REST cached: ${udpToRest[0].toFixed(2)} (1,000 stored), ${udpToRest[1].toFixed(2)} (${LARGE.toLocaleString('en')} stored); target ≥ 1.0: ${verdict(Math.min(...udpToRest) >= 1)}`,
    );
    console.log(
      `targets: cached REST ≥ ½ baseline (${((cached / results.baseline.rps) * 100).toFixed(0)}%): ${verdict(cached >= results.baseline.rps / 2)}; ≥ 15,000/s: ${verdict(cached >= 15_000)}; p99 < 10 ms: ${verdict(worstP99 < 10)}; uncached ≥ 5,000/s at ${LARGE.toLocaleString('en')} stored: ${verdict(results.restUncached1m.rps >= 5_000)}; batch ≥ 20,000/s from 1 client: ${verdict(batchSequential >= 20_000)}`,
    );
  } finally {
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
