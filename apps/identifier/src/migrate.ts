import 'reflect-metadata';
import { runMigrations } from '@iip/platform-runtime';
import { loadIdentifierConfig } from './config';
import { IDENTIFIER_SERVICE } from './identifier-app';

/** `node dist/apps/identifier/src/migrate.js`: applies pending migrations and exits. */
runMigrations(IDENTIFIER_SERVICE, () => loadIdentifierConfig());
