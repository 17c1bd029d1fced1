#!/usr/bin/env node
// Compiles apps/ and libs/ to dist/ with swc, mirroring the source tree, and rewrites the
// @iip/* path aliases to relative imports so `node dist/apps/<service>/src/main.js` runs.
import { transformFile } from '@swc/core';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const swcrc = JSON.parse(await readFile(join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const { compilerOptions } = JSON.parse(await readFile(join(root, 'tsconfig.base.json'), 'utf8'));

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'test' || entry.name === 'node_modules') continue;
      yield* sources(path);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !/\.(spec|integration-spec|e2e-spec)\.ts$/.test(entry.name)) {
      yield path;
    }
  }
}

export async function build() {
  await rm(out, { recursive: true, force: true });
  const files = [];
  for (const top of ['apps', 'libs', 'bench']) for await (const f of sources(join(root, top))) files.push(f);
  const started = Date.now();
  await Promise.all(
    files.map(async (file) => {
      const { code, map } = await transformFile(file, {
        ...swcrc,
        swcrc: false,
        filename: file,
        sourceFileName: relative(join(out, relative(root, dirname(file))), file),
        jsc: { ...swcrc.jsc, baseUrl: root, paths: compilerOptions.paths },
      });
      const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, code + `\n//# sourceMappingURL=${target.split('/').pop()}.map\n`);
      if (map) await writeFile(target + '.map', map);
    }),
  );
  return { files: files.length, ms: Date.now() - started };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { files, ms } = await build();
  console.log(`built ${files} files into dist/ in ${ms} ms`);
}
