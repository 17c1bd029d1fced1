// Unit specs run in parallel with no I/O; integration and e2e specs start real services
// against PostgreSQL, Redis and Kafka, each in its own database, key prefix and topic prefix.
const { readFileSync } = require('node:fs');
const swcrc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swcrc.$schema;

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleNameMapper: {
    '^@iip/contracts$': '<rootDir>/libs/contracts/src/index.ts',
    // Test support of each service, for the cross-service e2e project (apps/e2e).
    '^@iip/(tenancy|identifier|device-registry|telemetry)-testing$': '<rootDir>/apps/$1/test/support.ts',
    '^@iip/thing-model$': '<rootDir>/libs/thing-model/src/index.ts',
    '^@iip/platform-(.*)$': '<rootDir>/libs/platform/$1/src/index.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.cache/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.cache/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.integration-spec.ts', '<rootDir>/apps/**/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/libs/platform/testing/src/global-setup.ts',
      globalTeardown: '<rootDir>/libs/platform/testing/src/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/libs/platform/testing/src/jest-integration-setup.ts'],
    },
    {
      // Stop and restart the shared infrastructure (Kafka, PostgreSQL): run alone, after the rest (scripts/test.mjs).
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/apps/**/test/**/*.fault-spec.ts'],
      globalSetup: '<rootDir>/libs/platform/testing/src/global-setup.ts',
      globalTeardown: '<rootDir>/libs/platform/testing/src/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/libs/platform/testing/src/jest-integration-setup.ts'],
    },
  ],
};
