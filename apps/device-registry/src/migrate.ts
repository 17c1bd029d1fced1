import 'reflect-metadata';
import { runMigrations } from '@iip/platform-runtime';
import { loadDeviceRegistryConfig } from './config';
import { DEVICE_REGISTRY_SERVICE } from './device-registry-app';

/** `node dist/apps/device-registry/src/migrate.js`: applies pending migrations and exits. */
runMigrations(DEVICE_REGISTRY_SERVICE, () => loadDeviceRegistryConfig());
