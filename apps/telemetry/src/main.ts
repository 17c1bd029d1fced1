import 'reflect-metadata';
import { runService } from '@iip/platform-runtime';
import { loadTelemetryConfig } from './config';
import { startTelemetry } from './telemetry-app';

runService({
  name: 'telemetry',
  loadConfig: () => loadTelemetryConfig(),
  start: (config, logger) => startTelemetry(config, { logger }),
});
