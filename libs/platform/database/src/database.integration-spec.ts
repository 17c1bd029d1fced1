import { Client } from 'pg';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { createTestEnvironment, TestEnvironment } from '@iip/platform-testing';
import { copyRows } from './copy';
import { createServiceDataSource, ensureDatabase, inTransaction, isUniqueViolation, migrate, preparedQuery } from './database';

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

  it('streams rows with COPY inside the transaction, text, arrays and JSON intact, and rolls them back with it', async () => {
    const ds = createServiceDataSource({ url: env.databaseUrl, schema: 'copytest', entities: [], migrations: [], poolSize: 2 });
    await ds.initialize();
    try {
      await ds.query('CREATE SCHEMA IF NOT EXISTS copytest');
      await ds.query('CREATE TABLE copytest.rows (n int, label text, tags text[], doc jsonb, note text)');
      const tricky = 'tab\there, newline\nthere, back\\slash, "quoted", {braces}, 汉字';
      const rows = Array.from(
        { length: 1200 },
        (_, i) =>
          [
            i,
            i === 7 ? tricky : `row ${i}`,
            i === 7 ? ['a,b', 'quote"d', 'back\\slash', 'NULL', ''] : ['x'],
            { json: { i, text: tricky, nested: [1, null, { deep: 'line\nbreak' }] } },
            i % 2 === 0 ? null : 'odd',
          ] as const,
      );
      await inTransaction(ds, (m) => copyRows(m, 'copytest.rows', ['n', 'label', 'tags', 'doc', 'note'], rows));
      const back = await preparedQuery<{ n: number; label: string; tags: string[]; doc: unknown; note: string | null }>(
        ds,
        'copytest-row',
        'SELECT n, label, tags, doc, note FROM copytest.rows WHERE n = $1',
        [7],
      );
      expect(back).toEqual([
        {
          n: 7,
          label: tricky,
          tags: ['a,b', 'quote"d', 'back\\slash', 'NULL', ''],
          doc: { i: 7, text: tricky, nested: [1, null, { deep: 'line\nbreak' }] },
          note: 'odd',
        },
      ]);
      const [{ count, nulls }] = await ds.query<{ count: number; nulls: number }[]>(
        'SELECT count(*)::int AS count, count(*) FILTER (WHERE note IS NULL)::int AS nulls FROM copytest.rows',
      );
      expect({ count, nulls }).toEqual({ count: 1200, nulls: 600 });

      const failed = await inTransaction(ds, async (m) => {
        await copyRows(m, 'copytest.rows', ['n', 'label'], [[5000, 'rolled back']]);
        throw new Error('abort');
      }).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(Error);
      expect(await ds.query('SELECT 1 FROM copytest.rows WHERE n = 5000')).toEqual([]);
      await expect(copyRows(ds.manager, 'copytest.rows', ['n'], [[1]])).rejects.toThrow(/inside a transaction/);
      // Rows PostgreSQL refuses fail the copy and its transaction; the pooled connections stay usable.
      const refused = await inTransaction(ds, (m) => copyRows(m, 'copytest.rows', ['n'], [[1], ['not a number']])).catch(
        (err: unknown) => err,
      );
      expect(String(refused)).toMatch(/invalid input syntax for type integer/);
      for (let i = 0; i < 4; i++) expect(await ds.query('SELECT count(*)::int AS n FROM copytest.rows')).toEqual([{ n: 1200 }]);
    } finally {
      await ds.destroy();
    }
  });
});
