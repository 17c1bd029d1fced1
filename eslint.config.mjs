// Flat ESLint config for the whole workspace.
//   npx eslint .                      whole repo (what `npm run lint` runs)
//   npx nx run-many -t lint           per project, through Nx (cached)
//
// TypeScript under apps/ and libs/ gets type-aware typescript-eslint rules from the root
// tsconfig.json (one program for the whole repo, which is the fastest option here).
// @nx/enforce-module-boundaries reads Nx's cached project graph; when ESLint is run outside
// Nx the graph is refreshed first (below) so a fresh checkout or a new project is not skipped.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

if (!process.env.NX_TASK_TARGET_PROJECT && !process.env.IIP_ESLINT_SKIP_NX_GRAPH) {
  // Outside an Nx task nothing guarantees .nx/workspace-data is present and current, and without
  // it the boundary rule silently does nothing. Under Nx the graph was just computed.
  process.env.NX_DAEMON ??= 'false';
  process.env.NX_NO_CLOUD ??= 'true';
  try {
    const { createProjectGraphAsync } = await import('@nx/devkit');
    await createProjectGraphAsync({ exitOnError: false });
  } catch (err) {
    console.warn(`eslint.config.mjs: could not compute the Nx project graph (${err?.message ?? err}); module boundaries may be skipped`);
  }
}

const TYPED_TS = ['apps/**/*.ts', 'libs/**/*.ts', 'bench/**/*.ts']; // = tsconfig.json "include"
const TEST_FILES = ['**/*.spec.ts', '**/*.integration-spec.ts', '**/*.e2e-spec.ts', 'apps/*/test/**/*.ts'];

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'structuredClone',
    'fetch',
    'performance',
    'globalThis',
  ].map((name) => [name, 'readonly']),
);
const commonJsGlobals = { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };

const RELATIVE_INTO_PROJECT = {
  regex: '^(\\.\\./)+(apps|libs)/',
  message: 'Do not reach into another project with a relative path; import its @iip/* alias (apps are never imported).',
};
const DEEP_ALIAS = { group: ['@iip/*/**'], message: 'Import a library only through its entry point (@iip/<name>).' };

export default defineConfig(
  globalIgnores(['**/node_modules/', 'dist/', '.cache/', '.nx/', 'coverage/', 'libs/contracts/src/generated/', 'tools/**/*.cjs']),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  // Every file: ESLint's recommended JavaScript rules (no type information needed).
  js.configs.recommended,
  // Plain JavaScript (scripts/**/*.mjs, root config files): nothing more.
  { files: ['**/*.{js,mjs}'], languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: nodeGlobals } },
  { files: ['**/*.cjs'], languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonJsGlobals } } },

  // TypeScript outside tsconfig.json (tools/kafka/*.d.ts, *.d.cts): syntax-level typescript-eslint rules only.
  { files: ['**/*.{ts,cts,mts}'], extends: [tseslint.configs.recommended] },

  // TypeScript in the projects: type-aware rules plus the house rules.
  {
    files: TYPED_TS,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: nodeGlobals,
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [RELATIVE_INTO_PROJECT, DEEP_ALIAS] }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // The only app entry points anyone may import: each service's test support, for the
          // cross-service e2e project (tagged type:e2e, constrained below).
          allow: ['@iip/tenancy-testing', '@iip/identifier-testing', '@iip/device-registry-testing', '@iip/telemetry-testing'],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:platform', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:platform', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            // Cross-service e2e specs start several services as a partner would meet them.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:app', 'type:platform', 'type:contracts', 'type:util'] },
            {
              sourceTag: 'scope:e2e',
              onlyDependOnLibsWithTags: ['scope:tenancy', 'scope:identifier', 'scope:device-registry', 'scope:telemetry', 'scope:shared'],
            },
            { sourceTag: 'scope:tenancy', onlyDependOnLibsWithTags: ['scope:tenancy', 'scope:shared'] },
            { sourceTag: 'scope:identifier', onlyDependOnLibsWithTags: ['scope:identifier', 'scope:shared'] },
            { sourceTag: 'scope:device-registry', onlyDependOnLibsWithTags: ['scope:device-registry', 'scope:shared'] },
            { sourceTag: 'scope:telemetry', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    // Libraries never depend on apps, however the path is spelled.
    files: ['libs/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [RELATIVE_INTO_PROJECT, DEEP_ALIAS, { regex: '(^|/)apps/', message: 'Libraries must not import from apps.' }],
        },
      ],
    },
  },
  {
    // Generated ts-proto code is ignored above; should it ever be linted, `any` is allowed there.
    files: ['libs/contracts/src/generated/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests read HTTP bodies (typed `any` by supertest) and assert on them; the assertions are the type check.
    files: TEST_FILES,
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
