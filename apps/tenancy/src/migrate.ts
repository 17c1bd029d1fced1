import 'reflect-metadata';
import { runMigrations } from '@iip/platform-runtime';
import { loadTenancyConfig } from './config';
import { TENANCY_SERVICE } from './tenancy-app';

/** `node dist/apps/tenancy/src/migrate.js`: applies pending migrations and exits. */
runMigrations(TENANCY_SERVICE, () => loadTenancyConfig());
