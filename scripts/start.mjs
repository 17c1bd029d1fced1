#!/usr/bin/env node
// `npm start`: installs what is missing, builds, brings the infrastructure up, runs
// migrations and starts every service, then prints their URLs and how to get a token.
// Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstall } from './lib/ensure-install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
ensureInstall(root);

const { run } = await import('./lib/run.mjs');
const { infraUp } = await import('./lib/infra.mjs');
const { SERVICES } = await import('./lib/services.mjs');
const { build } = await import('./build.mjs');

if ((await run(join(root, 'node_modules/.bin/buf'), ['generate'])) !== 0) process.exit(1);
const built = await build();
console.log(`✓ built ${built.files} files in ${built.ms} ms`);
const infra = await infraUp(root);

// Local operator credentials: generated once into the git-ignored cache, readable only by you.
// A deployment sets OPERATOR_CLIENT_ID and OPERATOR_CLIENT_SECRET itself.
const credentialsFile = join(root, '.cache/local-operator.json');
let operator;
if (process.env.OPERATOR_CLIENT_ID && process.env.OPERATOR_CLIENT_SECRET) {
  operator = { clientId: process.env.OPERATOR_CLIENT_ID, secret: process.env.OPERATOR_CLIENT_SECRET, fromEnv: true };
} else {
  if (!existsSync(credentialsFile)) {
    mkdirSync(dirname(credentialsFile), { recursive: true });
    writeFileSync(credentialsFile, JSON.stringify({ clientId: 'local-operator', secret: randomBytes(32).toString('base64url') }), {
      mode: 0o600,
    });
  }
  chmodSync(credentialsFile, 0o600);
  operator = JSON.parse(readFileSync(credentialsFile, 'utf8'));
}

const env = {
  ...process.env,
  KAFKA_BROKERS: process.env.KAFKA_BROKERS,
  OPERATOR_CLIENT_ID: operator.clientId,
  OPERATOR_CLIENT_SECRET: operator.secret,
  // Telemetry asks the device registry with a client of its own; locally, the operator's.
  TELEMETRY_CLIENT_ID: process.env.TELEMETRY_CLIENT_ID || operator.clientId,
  TELEMETRY_CLIENT_SECRET: process.env.TELEMETRY_CLIENT_SECRET || operator.secret,
};

for (const service of SERVICES) {
  if ((await run(process.execPath, [service.migrate], { env })) !== 0) {
    await infra.down();
    process.exit(1);
  }
}

const children = [];
let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  console.log('\n» stopping');
  await Promise.all(
    children.map(
      ({ child, name }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(timer);
            console.log(`✓ ${name} stopped`);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await infra.down();
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
// npm does not pass a SIGTERM sent to it alone (a supervisor, `timeout npm start`) on to this
// script: when the process that started us is gone, stop everything rather than run orphaned.
const startedBy = process.ppid;
setInterval(() => {
  if (process.ppid !== startedBy) void stopAll(0);
}, 1_000).unref();

for (const service of SERVICES) {
  const child = spawn(process.execPath, ['--enable-source-maps', service.main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push({ child, name: service.name });
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) process.stdout.write(`${service.name.padEnd(15)}| ${line}\n`);
    });
  }
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`✗ ${service.name} exited (code ${code})`);
      void stopAll(1);
    }
  });
}

// Ready means every dependency the service checks (PostgreSQL, Redis, Kafka) answers.
const httpPort = (s) => Number(process.env[s.httpPortVar] || s.httpPort);
const grpcPort = (s) => Number(process.env[s.grpcPortVar] || s.grpcPort);
for (const service of SERVICES) {
  const url = `http://127.0.0.1:${httpPort(service)}/health/ready`;
  const deadline = Date.now() + 120_000;
  let report;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url);
      report = await res.json();
      if (res.status === 200 && Object.values(report.checks).every((c) => c.status === 'up')) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!report || !Object.values(report.checks ?? {}).every((c) => c.status === 'up')) {
    console.error(`✗ ${service.name} did not become ready: ${JSON.stringify(report)}`);
    await stopAll(1);
  }
  console.log(`✓ ${service.name} ready: ${Object.keys(report.checks).join(', ')} up`);
}

const tenancy = `http://127.0.0.1:${httpPort(SERVICES[0])}`;
const lines = ['', 'IIP is up.', ''];
for (const s of SERVICES) {
  lines.push(
    `  ${s.name.padEnd(15)} REST http://127.0.0.1:${httpPort(s)}  (OpenAPI: /docs)   gRPC 127.0.0.1:${grpcPort(s)}   health: /health/ready   metrics: /metrics${s.extra ? `   ${s.extra(process.env)}` : ''}`,
  );
}
lines.push(
  '',
  'Get a first access token (platform operator, client credentials):',
  '',
  `  curl -s -u '${operator.clientId}:${operator.fromEnv ? '$OPERATOR_CLIENT_SECRET' : operator.secret}' -d grant_type=client_credentials ${tenancy}/oauth/token`,
  '',
  'and call a protected endpoint with it:',
  '',
  `  curl -s -H "Authorization: Bearer <access_token>" ${tenancy}/v1/whoami`,
  '',
  operator.fromEnv ? '' : `(local operator credentials are kept in ${credentialsFile}, mode 600)`,
  'Press Ctrl-C to stop everything.',
  '',
);
console.log(lines.join('\n'));
