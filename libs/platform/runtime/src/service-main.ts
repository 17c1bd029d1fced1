import 'reflect-metadata';
import { ConfigError, PlatformConfig, redactConfig } from '@iip/platform-config';
import { migrate } from '@iip/platform-database';
import { AppLogger, createLogger } from '@iip/platform-observability';
import { ServiceDescription, openServiceDatabase } from './service-runtime';

interface Started {
  httpUrl: string;
  grpcUrl: string;
  close(): Promise<void>;
}

/**
 * The whole of a service's main.ts: validate the configuration (exit 78 naming the bad
 * variables), start, log where it listens, stop cleanly on SIGINT/SIGTERM.
 */
export function runService<C extends PlatformConfig, S extends Started>(options: {
  name: string;
  loadConfig: () => C;
  start: (config: C, logger: AppLogger) => Promise<S>;
  onStarted?: (running: S, logger: AppLogger) => void;
}): void {
  const main = async () => {
    let config: C;
    try {
      config = options.loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`${options.name}: ${err.message}\n`);
        process.exit(78);
      }
      throw err;
    }
    const logger = createLogger(options.name, config.LOG_LEVEL);
    logger.info({ config: redactConfig(config) }, 'starting');
    const running = await options.start(config, logger);
    options.onStarted?.(running, logger);
    logger.info({ http: running.httpUrl, grpc: running.grpcUrl }, `${options.name} ready`);
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
  };
  main().catch((err: unknown) => {
    process.stderr.write(`${options.name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

/** The whole of a service's migrate.ts: apply pending migrations of its schema and exit. */
export function runMigrations<C extends PlatformConfig>(service: ServiceDescription, loadConfig: () => C): void {
  const main = async () => {
    const config = loadConfig();
    const dataSource = await openServiceDatabase(service, config.DATABASE_URL, 2);
    try {
      const applied = await migrate(dataSource, service.schema);
      process.stdout.write(applied.length ? `${service.name}: applied ${applied.join(', ')}\n` : `${service.name}: schema is up to date\n`);
    } finally {
      await dataSource.destroy();
    }
  };
  main().catch((err: unknown) => {
    process.stderr.write(`${service.name} migrations failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
