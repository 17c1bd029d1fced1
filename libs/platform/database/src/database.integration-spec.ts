import { Client } from 'pg';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { createTestEnvironment, TestEnvironment } from '@iip/platform-testing';
import { createServiceDataSource, ensureDatabase, inTransaction, isUniqueViolation, migrate } from './database';

class CreateThings1700000000000 implements MigrationInterface {
  name = 'CreateThings1700000000000';
  async up(q: QueryRunner) {
    await q.query('CREATE TABLE sample.things (id int PRIMARY KEY, name text UNIQUE)');
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE sample.things');
  }
}

describe('database helpers against real PostgreSQL', () => {
  let env: TestEnvironment;

  beforeAll(async () => {
    env = await createTestEnvironment('database');
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it('creates the database once, migrates under a lock from several instances, and commits or rolls back together', async () => {
    await Promise.all([ensureDatabase(env.databaseUrl), ensureDatabase(env.databaseUrl)]);
    const sources = [0, 1, 2].map(() =>
      createServiceDataSource({
        url: env.databaseUrl,
        schema: 'sample',
        entities: [],
        migrations: [CreateThings1700000000000],
        poolSize: 2,
      }),
    );
    await Promise.all(sources.map((s) => s.initialize()));
    try {
      const applied = await Promise.all(sources.map((s) => migrate(s, 'sample')));
      expect(applied.flat()).toEqual(['CreateThings1700000000000']);

      const [ds] = sources;
      const failure = await inTransaction(ds, async (m) => {
        await m.query(`INSERT INTO things VALUES (1, 'a')`);
        await m.query(`INSERT INTO things VALUES (2, 'a')`);
      }).catch((err: unknown) => err);
      expect(isUniqueViolation(failure, 'things_name_key')).toBe(true);
      const rows: unknown[] = await ds.query('SELECT * FROM things');
      expect(rows).toHaveLength(0);
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
    }
    const pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM sample.migrations`);
    await pg.end();
    expect(rows[0].n).toBe(1);
  });
});
