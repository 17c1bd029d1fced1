import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConfigError, EnvSource, loadConfig, platformEnvSchema, redactUrlPassword } from '@iip/platform-config';
import { OutboxReplayInputError, OutboxReplayWindow, outboxSchemas, parseReplayWindow, replayOutbox } from './outbox-replay';

export const OUTBOX_REPLAY_USAGE = `usage: npm run outbox:replay -- --service <name> --since <time> [--until <time>] [--dry-run]
  Marks the service's published outbox events created in [since, until) as unpublished, so
  its running relay sends them to Kafka again in their original order. Times are ISO 8601
  with a zone, e.g. 2026-12-01T00:00:00Z. Reads DATABASE_URL like the services do.`;

interface Output {
  out(line: string): void;
  err(line: string): void;
}

type Request = { service: string; window: OutboxReplayWindow; dryRun: boolean };

/** Reads the command line; a mistake is an OutboxReplayInputError (exit 2). */
export function parseOutboxReplayArgs(argv: string[], now = new Date()): Request | 'help' {
  let values: { service?: string; since?: string; until?: string; 'dry-run'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        service: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new OutboxReplayInputError((err as Error).message);
  }
  if (values.help) return 'help';
  if (!values.service) throw new OutboxReplayInputError('--service is required, e.g. --service tenancy');
  return { service: values.service, window: parseReplayWindow(values.since, values.until, now), dryRun: values['dry-run'] ?? false };
}

/** `npm run outbox:replay`: returns the exit code (0 done, 1 could not run, 2 bad request, 78 bad DATABASE_URL). */
export async function runOutboxReplay(argv: string[], env: EnvSource = process.env, io: Output = consoleOutput): Promise<number> {
  let request: Request;
  let databaseUrl: string;
  try {
    const parsed = parseOutboxReplayArgs(argv);
    if (parsed === 'help') {
      io.out(OUTBOX_REPLAY_USAGE);
      return 0;
    }
    request = parsed;
    ({ DATABASE_URL: databaseUrl } = loadConfig({ DATABASE_URL: platformEnvSchema.DATABASE_URL }, env));
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 78;
    }
    if (err instanceof OutboxReplayInputError) {
      io.err(`outbox:replay: ${err.message}\n${OUTBOX_REPLAY_USAGE}`);
      return 2;
    }
    throw err;
  }

  const dataSource = new DataSource({ type: 'postgres', url: databaseUrl, extra: { max: 1, application_name: 'iip-outbox-replay' } });
  try {
    await dataSource.initialize();
  } catch (err) {
    io.err(`outbox:replay: cannot connect to ${redactUrlPassword(databaseUrl)}: ${(err as Error).message}`);
    return 1;
  }
  try {
    const { service, window, dryRun } = request;
    const known = await outboxSchemas(dataSource);
    if (!known.includes(service)) {
      io.err(
        `outbox:replay: unknown service "${service}": ${known.length ? `this database has an outbox for ${known.join(', ')}` : 'this database has no outbox (not migrated?)'}`,
      );
      return 2;
    }
    const result = await replayOutbox(dataSource, service, window, { dryRun });
    const range = `created since ${window.since.toISOString()}${window.until ? ` and before ${window.until.toISOString()}` : ''}`;
    io.out(
      `${service}: ${result.events} published event${result.events === 1 ? '' : 's'} ${range} ${dryRun ? 'would be replayed (dry run: nothing changed)' : 'will be replayed'}`,
    );
    for (const t of result.byTopic) io.out(`  ${t.topic}  ${t.events}`);
    if (result.alreadyPending > 0) {
      io.out(`  (${result.alreadyPending} more in that window are not published yet; the relay sends them anyway)`);
    }
    if (result.oldestRetained && result.oldestRetained > window.since) {
      io.out(
        `  note: the outbox holds nothing created before ${result.oldestRetained.toISOString()} (published events are pruned after OUTBOX_RETENTION_HOURS): anything older cannot be replayed`,
      );
    }
    if (!dryRun && result.events > 0) {
      io.out(
        `The ${service} relay sends them again in their original order as soon as it next polls (or when ${service} starts). ` +
          'Consumers apply each event id once, so one that already had an event skips it.',
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof OutboxReplayInputError) {
      io.err(`outbox:replay: ${err.message}`);
      return 2;
    }
    io.err(`outbox:replay failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await dataSource.destroy();
  }
}

const consoleOutput: Output = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

// Also runnable from the compiled tree, where scripts/ is absent (the service images):
//   node dist/libs/platform/kafka/src/outbox-replay-cli.js --service tenancy --since ...
if (require.main === module) {
  void runOutboxReplay(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
