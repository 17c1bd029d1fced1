import 'reflect-metadata';
import { runService } from '@iip/platform-runtime';
import { loadTenancyConfig } from './config';
import { startTenancy } from './tenancy-app';

runService({
  name: 'tenancy',
  loadConfig: () => loadTenancyConfig(),
  start: (config, logger) => startTenancy(config, { logger }),
  onStarted: (running) => {
    if (!running.generatedOperatorSecret) return;
    // Printed once, outside the JSON log, so it never reaches log storage.
    process.stdout.write(
      [
        '',
        '  Platform operator client created. The secret is shown only now:',
        `    client_id:     ${running.operatorClientId}`,
        `    client_secret: ${running.generatedOperatorSecret}`,
        '',
      ].join('\n') + '\n',
    );
  },
});
