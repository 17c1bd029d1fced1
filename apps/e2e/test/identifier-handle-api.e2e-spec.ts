import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';

const SCOPES = ['tenants:read', 'identifiers:write'];

type Value = { index: number; type: string; data: { format: string; value: unknown } };

/**
 * The Handle REST API's writes of single values and of server-minted suffixes, sent as Handle
 * clients send them: `PUT|DELETE /api/handles/{h}?index=…`, `PUT /api/handles/{prefix}/?mintNewSuffix=true`,
 * `"data": "…"` for string values. Each case checks the record afterwards with `auth=true` (no cache).
 */
describe('identifier node: Handle REST API per-index writes, minted suffixes, string shorthand', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let token: string;
  let otherToken: string;
  let prefix: string;

  beforeAll(async () => {
    env = await createTestEnvironment('idhandleapi');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    const op = await operatorToken(tenancy);
    const owner = await createTenant(tenancy, op, { kind: 'group' });
    const other = await createTenant(tenancy, op, { kind: 'group' });
    token = (await clientToken(tenancy, op, owner.id, SCOPES)).token;
    otherToken = (await clientToken(tenancy, op, other.id, SCOPES)).token;
    prefix = await enterprisePrefixOf(node.httpUrl, token, 'the enterprise prefix');
    // The other tenant's prefix must exist too, so its refusals are about ownership.
    await waitFor(
      async () => (await request(node.httpUrl).get('/v1/prefixes').auth(otherToken, { type: 'bearer' })).body.items?.[0]?.prefix,
      30_000,
      'the other prefix',
    );
  });

  afterAll(async () => {
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  const url = (index: number, value: string): Value => ({ index, type: 'URL', data: { format: 'string', value } });
  const put = (path: string, body: object, headers: Record<string, string> = {}, who = token) =>
    request(node.httpUrl).put(`/api/handles/${path}`).auth(who, { type: 'bearer' }).set(headers).send(body);
  const del = (path: string, headers: Record<string, string> = {}, who = token) =>
    request(node.httpUrl).delete(`/api/handles/${path}`).auth(who, { type: 'bearer' }).set(headers);
  /** The record as the source holds it (auth=true bypasses the caches), as [index, type, value]. */
  const stored = async (handle: string) => {
    const res = await request(node.httpUrl).get(`/api/handles/${handle}?auth=true`).auth(token, { type: 'bearer' });
    return {
      status: res.status,
      values: ((res.body.values ?? []) as (Value & { timestamp: string })[]).map((v) => [v.index, v.type, v.data.value]),
      timestamps: Object.fromEntries(((res.body.values ?? []) as (Value & { timestamp: string })[]).map((v) => [v.index, v.timestamp])),
    };
  };
  const events = async (handle: string) => {
    const rows: { type: string; version: number }[] = await node.dataSource.query(
      `SELECT envelope->>'type' AS type, (envelope->'data'->>'version')::int AS version FROM outbox
        WHERE envelope->'data'->>'key' = $1 ORDER BY (envelope->'data'->>'version')::int`,
      [handle.toLowerCase()],
    );
    return rows.map((r) => [r.type, r.version]);
  };
  const create = async (suffix: string, values: Value[]) => {
    const handle = `${prefix}/${suffix}`;
    const res = await put(handle, { values });
    expect(res.status).toBe(201);
    return handle;
  };
  const owner = (values: unknown[][]) => values.filter(([index]) => index !== 100);

  it('lists the Handle API query parameters in its OpenAPI document (the bad-input table tries each)', async () => {
    const doc = (await request(node.httpUrl).get('/docs/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const route = Object.entries(doc.paths).find(([path]) => path.startsWith('/api/handles/'))?.[1] ?? {};
    const queryOf = (method: string) => (route[method]?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(queryOf('put')).toEqual(expect.arrayContaining(['index', 'overwrite', 'mintNewSuffix']));
    expect(queryOf('delete')).toEqual(['index']);
  });

  describe('DELETE with index= removes only those values', () => {
    it('deletes one index and keeps the rest; the record is updated, not gone', async () => {
      const handle = await create('DEL-ONE', [url(1, 'a'), url(4, 'four'), url(5, 'five')]);
      // Warm this instance's cache: the delete must drop it.
      await request(node.httpUrl).get(`/api/handles/${handle}`);
      await request(node.httpUrl).get(`/api/handles/${handle}`);

      const res = await del(`${handle}?index=4`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ responseCode: 1, handle, version: 2 });
      expect(res.headers.etag).toBe('"2"');

      const after = await stored(handle);
      expect(after.status).toBe(200);
      expect(owner(after.values)).toEqual([
        [1, 'URL', 'a'],
        [5, 'URL', 'five'],
      ]);
      expect(after.values.some(([index, type]) => index === 100 && type === 'HS_ADMIN')).toBe(true);
      // The cached copy went with the commit: an ordinary (cached) read says the same.
      const cached = await request(node.httpUrl).get(`/api/handles/${handle}`);
      expect(cached.body.values.map((v: Value) => v.index).filter((i: number) => i !== 100)).toEqual([1, 5]);
      expect(await events(handle)).toEqual([
        [expect.stringMatching(/IdentifierRegistered$/), 1],
        [expect.stringMatching(/IdentifierUpdated$/), 2],
      ]);
    });

    it('deletes several indexes given as repeated index= parameters', async () => {
      const handle = await create('DEL-MANY', [url(1, 'a'), url(4, 'four'), url(5, 'five')]);
      expect((await del(`${handle}?index=4&index=5`)).status).toBe(200);
      expect(owner((await stored(handle)).values)).toEqual([[1, 'URL', 'a']]);
    });

    it('answers 200 values not found for an index without a value, and changes nothing', async () => {
      const handle = await create('DEL-MISSING', [url(1, 'a'), url(4, 'four')]);
      const res = await del(`${handle}?index=4&index=7`);
      // Handle code 200 outside resolution goes with HTTP 400 in the Handle REST API.
      expect(res.body.responseCode).toBe(200);
      expect(res.status).toBe(400);
      expect(owner((await stored(handle)).values)).toEqual([
        [1, 'URL', 'a'],
        [4, 'URL', 'four'],
      ]);
      expect(await events(handle)).toHaveLength(1);
    });

    it("refuses to remove index 100, the server's HS_ADMIN, and changes nothing", async () => {
      const handle = await create('DEL-ADMIN', [url(1, 'a')]);
      const res = await del(`${handle}?index=100`);
      expect(res.status).toBe(403);
      expect(res.body.responseCode).toBe(400);
      const after = await stored(handle);
      expect(after.values.map(([index]) => index)).toEqual([1, 100]);
    });

    it('honours If-Match and Idempotency-Key as a PUT does', async () => {
      const handle = await create('DEL-VERSIONED', [url(1, 'a'), url(2, 'b'), url(3, 'c')]);
      expect((await del(`${handle}?index=2`, { 'If-Match': '"5"' })).status).toBe(409);
      expect(owner((await stored(handle)).values)).toHaveLength(3);

      const first = await del(`${handle}?index=2`, { 'If-Match': '"1"', 'Idempotency-Key': 'del-values-1' });
      const retry = await del(`${handle}?index=2`, { 'If-Match': '"1"', 'Idempotency-Key': 'del-values-1' });
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
      // Another request under the same key is refused.
      expect((await del(`${handle}?index=3`, { 'Idempotency-Key': 'del-values-1' })).status).toBe(422);
      expect(owner((await stored(handle)).values)).toEqual([
        [1, 'URL', 'a'],
        [3, 'URL', 'c'],
      ]);
      expect(await events(handle)).toHaveLength(2);
    });

    it("refuses deleting values of another tenant's handle as for a whole delete", async () => {
      const handle = await create('DEL-FOREIGN', [url(1, 'a'), url(2, 'b')]);
      const res = await del(`${handle}?index=2`, {}, otherToken);
      expect(res.status).toBe(403);
      expect(owner((await stored(handle)).values)).toHaveLength(2);
    });

    it('answers 100 for values of a handle that does not exist, and refuses a malformed index', async () => {
      const missing = await del(`${prefix}/DEL-NOPE?index=1`);
      expect(missing.status).toBe(404);
      expect(missing.body.responseCode).toBe(100);
      expect((await del(`${prefix}/DEL-NOPE?index=abc`)).status).toBe(400);
      expect((await del(`${prefix}/DEL-NOPE?index=0`)).status).toBe(400);
    });

    it('still deletes the whole handle without index=', async () => {
      const handle = await create('DEL-ALL', [url(1, 'a')]);
      expect((await del(handle)).body).toEqual({ responseCode: 1, handle });
      expect((await stored(handle)).status).toBe(404);
    });
  });

  describe('PUT with index= adds or replaces only those values', () => {
    it('replaces one value and adds another, keeping the rest and their timestamps', async () => {
      const handle = await create('PUT-IDX', [url(1, 'a'), url(2, 'b'), url(4, 'old')]);
      const before = await stored(handle);
      await new Promise((r) => setTimeout(r, 20));
      const res = await put(`${handle}?index=4&index=6&overwrite=true`, {
        values: [url(4, 'new'), { index: 6, type: 'EMAIL', data: { format: 'string', value: 'ops@example.com' } }],
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ responseCode: 1, handle, version: 2 });
      expect(res.headers.etag).toBe('"2"');
      const after = await stored(handle);
      expect(owner(after.values)).toEqual([
        [1, 'URL', 'a'],
        [2, 'URL', 'b'],
        [4, 'URL', 'new'],
        [6, 'EMAIL', 'ops@example.com'],
      ]);
      expect(after.timestamps[1]).toBe(before.timestamps[1]);
      expect(after.timestamps[4]).not.toBe(before.timestamps[4]);
      expect(await events(handle)).toEqual([
        [expect.stringMatching(/IdentifierRegistered$/), 1],
        [expect.stringMatching(/IdentifierUpdated$/), 2],
      ]);
    });

    it('takes index=various as "the values in the body"', async () => {
      const handle = await create('PUT-VARIOUS', [url(1, 'a'), url(2, 'b')]);
      expect((await put(`${handle}?index=various`, { values: [url(2, 'B'), url(3, 'C')] })).status).toBe(200);
      expect(owner((await stored(handle)).values)).toEqual([
        [1, 'URL', 'a'],
        [2, 'URL', 'B'],
        [3, 'URL', 'C'],
      ]);
    });

    it('refuses a body whose values are not exactly the listed indexes, and changes nothing', async () => {
      const handle = await create('PUT-MISMATCH', [url(1, 'a')]);
      const extra = await put(`${handle}?index=2`, { values: [url(2, 'b'), url(3, 'c')] });
      expect(extra.status).toBe(400);
      expect(extra.body.responseCode).toBe(202);
      const missing = await put(`${handle}?index=2&index=3`, { values: [url(2, 'b')] });
      expect(missing.status).toBe(400);
      expect(owner((await stored(handle)).values)).toEqual([[1, 'URL', 'a']]);
    });

    it('with overwrite=false adds new values but refuses an index that holds one (409, 201)', async () => {
      const handle = await create('PUT-NO-OVERWRITE', [url(1, 'a')]);
      expect((await put(`${handle}?index=2&overwrite=false`, { values: [url(2, 'b')] })).status).toBe(200);
      const taken = await put(`${handle}?index=1&index=3&overwrite=false`, { values: [url(1, 'A'), url(3, 'c')] });
      expect(taken.status).toBe(409);
      expect(taken.body.responseCode).toBe(201);
      expect(owner((await stored(handle)).values)).toEqual([
        [1, 'URL', 'a'],
        [2, 'URL', 'b'],
      ]);
    });

    it('honours If-Match and Idempotency-Key', async () => {
      const handle = await create('PUT-IDX-VERSIONED', [url(1, 'a')]);
      expect((await put(`${handle}?index=2`, { values: [url(2, 'b')] }, { 'If-Match': '"9"' })).status).toBe(409);
      const first = await put(`${handle}?index=2`, { values: [url(2, 'b')] }, { 'If-Match': '"1"', 'Idempotency-Key': 'put-idx-1' });
      const retry = await put(`${handle}?index=2`, { values: [url(2, 'b')] }, { 'If-Match': '"1"', 'Idempotency-Key': 'put-idx-1' });
      expect(first.body).toEqual({ responseCode: 1, handle, version: 2 });
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await events(handle)).toHaveLength(2);
    });

    it('answers 100 for a handle that does not exist: index= changes an existing record', async () => {
      const res = await put(`${prefix}/PUT-IDX-NOPE?index=1`, { values: [url(1, 'a')] });
      expect(res.status).toBe(404);
      expect(res.body.responseCode).toBe(100);
      expect((await stored(`${prefix}/PUT-IDX-NOPE`)).status).toBe(404);
    });

    it("keeps the server's HS_ADMIN at 100 whatever a client sends there", async () => {
      const handle = await create('PUT-IDX-ADMIN', [url(1, 'a')]);
      const before = await request(node.httpUrl).get(`/api/handles/${handle}?index=100&auth=true`).auth(token, { type: 'bearer' });
      const res = await put(`${handle}?index=100`, {
        values: [
          {
            index: 100,
            type: 'HS_ADMIN',
            data: { format: 'admin', value: { handle: '0.NA/88.999', index: 200, permissions: '111111111111' } },
          },
        ],
      });
      expect(res.status).toBe(200);
      const after = await request(node.httpUrl).get(`/api/handles/${handle}?index=100&auth=true`).auth(token, { type: 'bearer' });
      expect(after.body.values[0].data).toEqual(before.body.values[0].data);
    });
  });

  describe('PUT with mintNewSuffix=true', () => {
    it('registers a handle under the prefix with a server-chosen suffix and answers 201 with it', async () => {
      const res = await put(`${prefix}/?mintNewSuffix=true`, { values: [url(1, 'https://example.com/minted')] });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        responseCode: 1,
        handle: expect.stringMatching(new RegExp(`^${prefix.replace(/\./g, '\\.')}/.+`)),
        version: 1,
      });
      const minted = res.body.handle as string;
      expect(owner((await stored(minted)).values)).toEqual([[1, 'URL', 'https://example.com/minted']]);
      const again = await put(`${prefix}/?mintNewSuffix=true`, { values: [url(1, 'https://example.com/minted')] });
      expect(again.body.handle).not.toBe(minted);
    });

    it('appends to a suffix stem, and a retry with the same Idempotency-Key gets the first handle', async () => {
      const first = await put(`${prefix}/PUMP-?mintNewSuffix=true`, { values: [url(1, 'x')] }, { 'Idempotency-Key': 'mint-1' });
      const retry = await put(`${prefix}/PUMP-?mintNewSuffix=true`, { values: [url(1, 'x')] }, { 'Idempotency-Key': 'mint-1' });
      expect(first.status).toBe(201);
      expect(first.body.handle).toMatch(new RegExp(`^${prefix.replace(/\./g, '\\.')}/PUMP-.+`));
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      const [{ n }]: { n: number }[] = await node.dataSource.query(`SELECT count(*)::int AS n FROM identifiers WHERE key LIKE $1`, [
        `${prefix}/pump-%`,
      ]);
      expect(n).toBe(1);
    });

    it("refuses minting under another tenant's prefix, a prefix without its slash, and index= with it", async () => {
      expect((await put(`${prefix}/?mintNewSuffix=true`, { values: [url(1, 'x')] }, {}, otherToken)).status).toBe(403);
      const noSlash = await put(`${prefix}?mintNewSuffix=true`, { values: [url(1, 'x')] });
      expect(noSlash.status).toBe(400);
      expect(noSlash.body.responseCode).toBe(102);
      expect((await put(`${prefix}/?mintNewSuffix=true&index=1`, { values: [url(1, 'x')] })).status).toBe(400);
      expect((await put(`${prefix}/?mintNewSuffix=yes`, { values: [url(1, 'x')] })).status).toBe(400);
    });
  });

  describe('"data": "…" shorthand for string values', () => {
    it('stores it as {format: "string", value} in a PUT, a per-index PUT and a batch', async () => {
      const handle = `${prefix}/SHORT-1`;
      expect((await put(handle, { values: [{ index: 1, type: 'URL', data: 'https://example.com/short' }] })).status).toBe(201);
      expect((await put(`${handle}?index=2`, { values: [{ index: 2, type: 'EMAIL', data: 'ops@example.com' }] })).status).toBe(200);
      const res = await request(node.httpUrl).get(`/api/handles/${handle}?auth=true`);
      expect(res.body.values.filter((v: Value) => v.index !== 100).map((v: Value) => [v.index, v.data])).toEqual([
        [1, { format: 'string', value: 'https://example.com/short' }],
        [2, { format: 'string', value: 'ops@example.com' }],
      ]);

      const batch = await request(node.httpUrl)
        .post('/v1/identifiers/batch')
        .auth(token, { type: 'bearer' })
        .send({ items: [{ handle: `${prefix}/SHORT-B1`, values: [{ index: 1, type: 'URL', data: 'https://example.com/b1' }] }] });
      expect(batch.status).toBeLessThan(300);
      expect(owner((await stored(`${prefix}/SHORT-B1`)).values)).toEqual([[1, 'URL', 'https://example.com/b1']]);
    });

    it('refuses data that is neither a string nor {format, value}', async () => {
      const res = await put(`${prefix}/SHORT-BAD`, { values: [{ index: 1, type: 'URL', data: 42 }] });
      expect(res.status).toBe(400);
      expect((await stored(`${prefix}/SHORT-BAD`)).status).toBe(404);
    });
  });
});
