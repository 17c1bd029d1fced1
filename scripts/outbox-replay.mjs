#!/usr/bin/env node
// `npm run outbox:replay -- --service tenancy --since 2026-12-01T00:00:00Z [--until <time>] [--dry-run]`
// Marks a service's published outbox events of that window as unpublished again, so its
// running relay re-sends them to Kafka in their original order (README: "Replaying the outbox").
// The logic is libs/platform/kafka/src/outbox-replay-cli.ts, run from the compiled tree;
// exit codes: 0 done, 1 could not run, 2 bad service or time, 78 bad DATABASE_URL.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/libs/platform/kafka/src/outbox-replay-cli.js');
const sources = join(root, 'libs/platform/kafka/src');
const stale = () => {
  const built = statSync(cli).mtimeMs;
  return readdirSync(sources).some((f) => f.endsWith('.ts') && statSync(join(sources, f)).mtimeMs > built);
};
if (!existsSync(cli) || (existsSync(sources) && stale())) {
  const { ensureInstall } = await import('./lib/ensure-install.mjs');
  ensureInstall(root);
  const { build } = await import('./build.mjs');
  console.error('» building dist/ (npm run build)');
  await build();
}
const { runOutboxReplay } = createRequire(import.meta.url)(cli);
process.exitCode = await runOutboxReplay(process.argv.slice(2));
