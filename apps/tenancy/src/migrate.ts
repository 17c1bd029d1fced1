import 'reflect-metadata';
import { ConfigError } from '@iip/platform-config';
import { createServiceDataSource, ensureDatabase, migrate } from '@iip/platform-database';
import { loadTenancyConfig } from './config';
import { TENANCY_ENTITIES, TENANCY_SCHEMA } from './tenancy-app';
import { tenancyMigrations } from './migrations';

/** `node dist/apps/tenancy/src/migrate.js`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadTenancyConfig();
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createServiceDataSource({
    url: config.DATABASE_URL,
    schema: TENANCY_SCHEMA,
    entities: TENANCY_ENTITIES,
    migrations: tenancyMigrations,
    poolSize: 2,
  });
  await dataSource.initialize();
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
