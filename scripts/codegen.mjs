#!/usr/bin/env node
// Generates TypeScript types and NestJS controller interfaces from proto/ (buf + ts-proto).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib/run.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function codegen() {
  const code = await run(join(root, 'node_modules/.bin/buf'), ['generate'], { cwd: root });
  if (code !== 0) throw new Error('buf generate failed');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await codegen();
  console.log('✓ generated libs/contracts/src/generated from proto/');
}
