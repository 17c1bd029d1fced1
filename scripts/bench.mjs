#!/usr/bin/env node
// `npm run bench -- <name>`: builds, brings the infrastructure up and runs bench/<name>.bench.ts.
// Each benchmark prints its own baseline measured in the same run.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstall } from './lib/ensure-install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const available = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace('.bench.ts', ''));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}>`);
  process.exit(2);
}
ensureInstall(root);
const { run } = await import('./lib/run.mjs');
const { infraUp } = await import('./lib/infra.mjs');
const { build } = await import('./build.mjs');
if ((await run(join(root, 'node_modules/.bin/buf'), ['generate'])) !== 0) process.exit(1);
await build();
const infra = await infraUp(root, { database: false });
const entry = join(root, `dist/bench/${name}.bench.js`);
const code = existsSync(entry) ? await run(process.execPath, [entry], { env: { ...process.env } }) : 1;
await infra.down();
process.exit(code);
