import 'reflect-metadata';
import { ConfigError, redactConfig } from '@iip/platform-config';
import { createLogger } from '@iip/platform-observability';
import { loadIdentifierConfig } from './config';
import { startIdentifier } from './identifier-app';

async function main(): Promise<void> {
  let config;
  try {
    config = loadIdentifierConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`identifier: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger('identifier', config.LOG_LEVEL);
  logger.info({ config: redactConfig(config) }, 'starting');
  const running = await startIdentifier(config, { logger });
  logger.info({ http: running.httpUrl, grpc: running.grpcUrl, nodePrefix: config.IDENTIFIER_NODE_PREFIX }, 'identifier ready');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`identifier failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
