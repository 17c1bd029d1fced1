import 'reflect-metadata';
import { runService } from '@iip/platform-runtime';
import { loadDeviceRegistryConfig } from './config';
import { startDeviceRegistry } from './device-registry-app';

runService({
  name: 'device-registry',
  loadConfig: () => loadDeviceRegistryConfig(),
  start: (config, logger) => startDeviceRegistry(config, { logger }),
});
