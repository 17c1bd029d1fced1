#!/usr/bin/env node
// `npm test`: installs what is missing, brings the infrastructure up, then runs lint,
// type-check, unit, integration and e2e tests, then the fault tests alone. Exits non-zero on the first failure.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstall } from './lib/ensure-install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
ensureInstall(root);

const { runOrExit } = await import('./lib/run.mjs');
const { infraUp } = await import('./lib/infra.mjs');
const started = Date.now();
const bin = (name) => join(root, 'node_modules/.bin', name);
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

let code = await runOrExit('codegen (buf + ts-proto)', bin('buf'), ['generate'], { env });
if (code === 0) code = await runOrExit('lint (eslint, module boundaries)', bin('eslint'), ['.'], { env });
if (code === 0) code = await runOrExit('type-check (tsc)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], { env });
if (code === 0) code = await runOrExit('unit tests', bin('jest'), ['--selectProjects', 'unit', '--ci'], { env });
let infra;
if (code === 0) {
  infra = await infraUp(root, { database: false });
  code = await runOrExit(
    'integration and e2e tests (PostgreSQL, Redis, Kafka)',
    bin('jest'),
    ['--selectProjects', 'integration', '--ci', '--maxWorkers=2'],
    { env: { ...env, KAFKA_BROKERS: process.env.KAFKA_BROKERS } },
  );
  // These stop and restart Kafka and PostgreSQL themselves: nothing else may run meanwhile.
  if (code === 0) {
    code = await runOrExit(
      'fault tests (processes killed, Kafka and PostgreSQL restarted)',
      bin('jest'),
      ['--selectProjects', 'faults', '--ci', '--runInBand'],
      {
        env: { ...env, KAFKA_BROKERS: process.env.KAFKA_BROKERS },
      },
    );
  }
}
if (infra && process.env.IIP_KEEP_KAFKA !== '1') await infra.down();
console.log(code === 0 ? `✓ all checks passed in ${((Date.now() - started) / 1000).toFixed(0)} s` : '✗ npm test failed');
process.exit(code);
