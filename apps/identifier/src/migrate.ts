import 'reflect-metadata';
import { migrate } from '@iip/platform-database';
import { openServiceDatabase } from '@iip/platform-runtime';
import { loadIdentifierConfig } from './config';
import { IDENTIFIER_SERVICE } from './identifier-app';

/** `node dist/apps/identifier/src/migrate.js`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadIdentifierConfig();
  const dataSource = await openServiceDatabase(IDENTIFIER_SERVICE, config.DATABASE_URL, 2);
  try {
    const applied = await migrate(dataSource, IDENTIFIER_SERVICE.schema);
    process.stdout.write(applied.length ? `identifier: applied ${applied.join(', ')}\n` : 'identifier: schema is up to date\n');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`identifier migrations failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
