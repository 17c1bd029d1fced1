import 'reflect-metadata';
import { migrate } from '@iip/platform-database';
import { openServiceDatabase } from '@iip/platform-runtime';
import { loadTenancyConfig } from './config';
import { TENANCY_SERVICE } from './tenancy-app';

/** `node dist/apps/tenancy/src/migrate.js`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadTenancyConfig();
  const dataSource = await openServiceDatabase(TENANCY_SERVICE, config.DATABASE_URL, 2);
  try {
    const applied = await migrate(dataSource, TENANCY_SERVICE.schema);
    process.stdout.write(applied.length ? `tenancy: applied ${applied.join(', ')}\n` : 'tenancy: schema is up to date\n');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tenancy migrations failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
