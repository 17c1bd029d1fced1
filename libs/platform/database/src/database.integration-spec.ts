import { Client } from 'pg';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { createTestEnvironment, TestEnvironment } from '@iip/platform-testing';
import { copyBinaryRows, copyRows } from './copy';
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

  it('streams rows in COPY binary format: uuid, text, instants, numbers, booleans and JSON intact across chunks; a bad UUID fails the copy', async () => {
    const ds = createServiceDataSource({ url: env.databaseUrl, schema: 'copybin', entities: [], migrations: [], poolSize: 2 });
    await ds.initialize();
    try {
      await ds.query('CREATE SCHEMA IF NOT EXISTS copybin');
      await ds.query('CREATE TABLE copybin.rows (id uuid, n int, name text, ts timestamptz(3), x float8, ok boolean, doc jsonb)');
      const ids = ['0b5e5e8a-3c1f-4d1a-9a55-1f2e3d4c5b6a', 'FFFFFFFF-0000-4000-8000-000000000001'];
      const long = 'ü'.repeat(70_000); // longer than a chunk
      const rows = Array.from({ length: 5000 }, (_, i) => ({
        id: ids[i % 2],
        name: i === 7 ? 'tab\there, 汉字, "quoted"' : i === 8 ? long : `row ${i}`,
        ts: i === 9 ? -86_400_000 : Date.UTC(2026, 11, 4, 8) + i,
        x: i === 10 ? -1.5e300 : i / 3,
        ok: i % 3 === 0 ? null : i % 3 === 1,
        doc: i % 2 ? { i, nested: [1, null, { deep: 'line\nbreak' }] } : null,
      }));
      await inTransaction(ds, (m) =>
        copyBinaryRows(m, 'copybin.rows', ['id', 'name', 'ts', 'x', 'ok', 'doc'], rows, (out, r) => {
          out.row();
          out.uuid(r.id);
          out.text(r.name);
          out.timestamptz(r.ts);
          out.float8(r.x);
          if (r.ok === null) out.null();
          else out.bool(r.ok);
          if (r.doc === null) out.null();
          else out.jsonb(r.doc);
        }),
      );
      const back = await ds.query<{ id: string; name: string; ts: Date; x: number; ok: boolean | null; doc: unknown; n: number | null }[]>(
        `SELECT id, name, ts, x, ok, doc, n FROM copybin.rows ORDER BY ts`,
      );
      expect(back).toHaveLength(5000);
      const byName = new Map(back.map((r) => [r.name, r]));
      expect(byName.get('tab\there, 汉字, "quoted"')).toEqual({
        id: ids[1].toLowerCase(),
        name: 'tab\there, 汉字, "quoted"',
        ts: new Date(Date.UTC(2026, 11, 4, 8) + 7),
        x: 7 / 3,
        ok: true,
        doc: { i: 7, nested: [1, null, { deep: 'line\nbreak' }] },
        n: null,
      });
      expect(byName.get(long)).toMatchObject({ id: ids[0], ts: new Date(Date.UTC(2026, 11, 4, 8) + 8), ok: false, doc: null });
      expect(back[0]).toMatchObject({ name: 'row 9', ts: new Date(-86_400_000), ok: null });
      expect(byName.get('row 10')).toMatchObject({ x: -1.5e300, ok: true });
      expect(byName.get('row 4999')).toMatchObject({ ts: new Date(Date.UTC(2026, 11, 4, 8) + 4999), x: 4999 / 3, ok: true });

      const refused = await inTransaction(ds, (m) =>
        copyBinaryRows(m, 'copybin.rows', ['id'], ['not-a-uuid'], (out, id) => {
          out.row();
          out.uuid(id);
        }),
      ).catch((err: unknown) => err);
      expect(String(refused)).toMatch(/not a UUID/);
      expect(await ds.query('SELECT count(*)::int AS n FROM copybin.rows')).toEqual([{ n: 5000 }]);
    } finally {
      await ds.destroy();
    }
  });
});
