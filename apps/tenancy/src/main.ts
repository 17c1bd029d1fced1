import 'reflect-metadata';
import { ConfigError, redactConfig } from '@iip/platform-config';
import { createLogger } from '@iip/platform-observability';
import { loadTenancyConfig } from './config';
import { startTenancy } from './tenancy-app';

async function main(): Promise<void> {
  let config;
  try {
    config = loadTenancyConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tenancy: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger('tenancy', config.LOG_LEVEL);
  logger.info({ config: redactConfig(config) }, 'starting');
  const running = await startTenancy(config, { logger });
  if (running.generatedOperatorSecret) {
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
  }
  logger.info({ http: running.httpUrl, grpc: running.grpcUrl, operatorClientId: running.operatorClientId }, 'tenancy ready');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`tenancy failed to start: ${message}\n`);
  process.exit(1);
});
