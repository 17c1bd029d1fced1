import 'reflect-metadata';
import { runService } from '@iip/platform-runtime';
import { loadIdentifierConfig } from './config';
import { startIdentifier } from './identifier-app';

runService({
  name: 'identifier',
  loadConfig: () => loadIdentifierConfig(),
  start: (config, logger) => startIdentifier(config, { logger }),
});
