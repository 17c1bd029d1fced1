import 'reflect-metadata';
import { runMigrations } from '@iip/platform-runtime';
import { loadTelemetryConfig } from './config';
import { TELEMETRY_SERVICE } from './telemetry-app';

/** `node dist/apps/telemetry/src/migrate.js`: applies pending migrations and exits. */
runMigrations(TELEMETRY_SERVICE, () => loadTelemetryConfig());
