import 'reflect-metadata';
import { ConfigError } from '@iip/platform-config';
import { migrate } from '@iip/platform-database';
import { loadTenancyConfig } from './config';
import { TENANCY_SCHEMA, openTenancyDatabase } from './tenancy-app';

/** `node dist/apps/tenancy/src/migrate.js`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadTenancyConfig();
  const dataSource = await openTenancyDatabase(config.DATABASE_URL, 2);
  try {
    const applied = await migrate(dataSource, TENANCY_SCHEMA);
    process.stdout.write(applied.length ? `tenancy: applied ${applied.join(', ')}\n` : 'tenancy: schema is up to date\n');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tenancy migrations failed: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
