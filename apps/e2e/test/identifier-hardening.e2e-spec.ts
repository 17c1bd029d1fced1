import { ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import request from 'supertest';
import { IdentifierV1 } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { identifierGrpcClient, enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';

const SCOPES = ['tenants:read', 'tenants:write', 'clients:write', 'identifiers:write'];
const PROBLEM_JSON = /^application\/problem\+json/;
const HANDLE_JSON = /^application\/json/;

/** JSON text of a value nested `depth` arrays deep (as text: JSON.stringify itself would overflow the stack). */
function nestedJson(depth: number): string {
  return `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
}

/**
 * Issue 7 (security and bad input), the identifier service's part: what a caller may see of
 * others' identifiers (reads and change streams), which Handle values it may write, and input
 * that must be refused as the caller's fault rather than stall or break the node.
 */
describe('identifier node: hardened against other tenants and bad input', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let grpc: ReturnType<typeof identifierGrpcClient>;
  let a: CreatedTenant, b: CreatedTenant;
  const tokens: Record<string, string> = {};
  const prefixes: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnvironment('idhardening');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    grpc = identifierGrpcClient(node.grpcUrl);
    tokens.op = await operatorToken(tenancy);
    a = await createTenant(tenancy, tokens.op, { kind: 'group' });
    b = await createTenant(tenancy, tokens.op, { kind: 'group' });
    tokens.a = (await clientToken(tenancy, tokens.op, a.id, SCOPES)).token;
    tokens.b = (await clientToken(tenancy, tokens.op, b.id, SCOPES)).token;
    for (const who of ['a', 'b']) {
      prefixes[who] = await enterprisePrefixOf(node.httpUrl, tokens[who], `the prefix of tenant ${who}`);
    }
  });

  afterAll(async () => {
    grpc?.close();
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  const put = (who: string, handle: string, values: unknown[], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    request(node.httpUrl)
      .put(`/api/handles/${handle}`)
      .auth(tokens[who], { type: 'bearer' })
      .set(headers)
      .send({ values, ...extra });
  const get = (handle: string, who?: string) => {
    const r = request(node.httpUrl).get(`/api/handles/${handle}`);
    return who ? r.auth(tokens[who], { type: 'bearer' }) : r;
  };
  const postBatch = (who: string, items: unknown[]) =>
    request(node.httpUrl).post('/v1/identifiers/batch').auth(tokens[who], { type: 'bearer' }).send({ items });
  const url = (value: string) => ({ index: 1, type: 'URL', data: { format: 'string', value } });
  const grpcValue = (valueJson: string, index = 1) => ({
    index,
    type: 'DATA',
    format: 'site',
    valueJson,
    ttl: 0,
    access: '',
    grantees: [],
  });
  const grpcFailure = (call: Promise<unknown>) =>
    call.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: ServiceError) => ({ code: err.code, details: err.details }),
    );

  it('streams to a watcher only the changes it may see: a nested prefix of another tenant stays hidden (point 2)', async () => {
    const inner = `${prefixes.a}.69231`;
    const allocated = await request(node.httpUrl)
      .post('/v1/prefixes')
      .auth(tokens.op, { type: 'bearer' })
      .send({ prefix: inner, tenantId: b.id });
    expect(allocated.status).toBe(201);

    const seen: Record<'a' | 'b', string[]> = { a: [], b: [] };
    const outer = grpc.watchChanges({ prefix: prefixes.a }, tokens.a);
    const own = grpc.watchChanges({ prefix: inner }, tokens.b);
    outer.on('data', (c: IdentifierV1.IdentifierChange) => seen.a.push(c.handle));
    own.on('data', (c: IdentifierV1.IdentifierChange) => seen.b.push(c.handle));
    outer.on('error', () => undefined);
    own.on('error', () => undefined);
    try {
      // Both streams are subscribed once a write made after them shows up.
      await waitFor(
        async () => {
          await put('a', `${prefixes.a}/PING`, [url(String(Date.now()))]);
          await put('b', `${inner}/PING`, [url(String(Date.now()))]);
          return seen.a.length > 0 && seen.b.length > 0 ? true : undefined;
        },
        30_000,
        'both change streams',
      );
      expect((await put('b', `${inner}/SECRET-1`, [url('b only')])).status).toBe(201);
      await waitFor(async () => (seen.b.includes(`${inner}/SECRET-1`) ? true : undefined), 10_000, "B's own change");
      // A's stream decides in order: once A's later change arrives, B's has been decided on too.
      expect((await put('a', `${prefixes.a}/AFTER`, [url('a')])).status).toBe(201);
      await waitFor(async () => (seen.a.includes(`${prefixes.a}/AFTER`) ? true : undefined), 10_000, "A's later change");

      expect(seen.a.filter((h) => h.startsWith(`${inner}/`))).toEqual([]);
      expect(seen.a.every((h) => h.startsWith(`${prefixes.a}/`))).toBe(true);
      expect(seen.b).toContain(`${inner}/SECRET-1`);
    } finally {
      outer.cancel();
      own.cancel();
    }
  });

  it('answers an unrelated tenant and an anonymous caller for a tenant-only handle exactly as for a missing one, REST and gRPC (point 3)', async () => {
    const hidden = `${prefixes.a}/PRIVATE-1`;
    const missing = `${prefixes.a}/MISSING-1`;
    expect((await put('a', hidden, [{ ...url('https://a.example/p'), access: 'tenant' }])).status).toBe(201);
    expect((await get(hidden, 'a')).status).toBe(200);

    /** The answer with the handle asked for written as <handle> and the per-request id left out. */
    const observed = async (handle: string, who: string | undefined, query = '') => {
      const res = await get(`${handle}${query}`, who);
      const { requestId: _requestId, ...body } = res.body as Record<string, unknown>;
      return {
        status: res.status,
        contentType: res.headers['content-type'],
        body: JSON.parse(JSON.stringify(body).split(handle).join('<handle>')) as unknown,
      };
    };
    for (const who of ['b', undefined]) {
      for (const query of ['', '?type=URL', '?index=1']) {
        const answer = await observed(hidden, who, query);
        expect(answer).toEqual(await observed(missing, who, query));
        expect(answer).toMatchObject({
          status: 404,
          body: { responseCode: 100, code: 'HANDLE_NOT_FOUND', message: '<handle> was not found' },
        });
      }
    }

    const viaGrpc = async (handle: string, token?: string) => {
      const failure = await grpcFailure(grpc.resolve({ handle, types: [], indexes: [], authoritative: false }, token));
      return { ...failure, details: failure.details.split(handle).join('<handle>') };
    };
    for (const token of [tokens.b, undefined]) {
      const answer = await viaGrpc(hidden, token);
      expect(answer).toEqual(await viaGrpc(missing, token));
      expect(answer.code).toBe(GrpcStatus.NOT_FOUND);
    }
    expect((await grpc.resolve({ handle: hidden, types: [], indexes: [], authoritative: false }, tokens.a)).values).toHaveLength(2);
  });

  describe('reserved Handle values (point 4)', () => {
    const adminOf = (handle: string, extra: Record<string, unknown> = {}) => ({
      index: 2,
      type: 'HS_ADMIN',
      data: { format: 'admin', value: { handle, index: 200, permissions: '111111111111' } },
      access: 'public',
      ...extra,
    });

    it("refuses an HS_ADMIN naming another tenant's prefix, over REST, batch and gRPC, and shows nothing of it", async () => {
      const forged = `${prefixes.a}/FORGED-1`;
      const refused = await put('a', forged, [url('x'), adminOf(`0.NA/${prefixes.b}`)]);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ responseCode: 400, code: 'VALUE_NOT_PERMITTED' });
      expect(refused.body.detail).toContain(`0.NA/${prefixes.b}`);
      expect((await get(forged)).status).toBe(404);
      const vlist = { index: 3, type: 'HS_VLIST', data: { format: 'vlist', value: [{ handle: `${prefixes.b}/ADMINS`, index: 300 }] } };
      expect((await put('a', forged, [url('x'), vlist])).status).toBe(403);

      const batch = await postBatch('a', [{ handle: forged, values: [url('x'), adminOf(`0.NA/${prefixes.b}`)] }]);
      expect(batch.status).toBe(200);
      expect(batch.body).toMatchObject({ created: 0, failed: 1, results: [{ responseCode: 400, error: { code: 'VALUE_NOT_PERMITTED' } }] });

      const viaGrpc = await grpcFailure(
        grpc.register(
          {
            handle: forged,
            values: [
              {
                index: 2,
                type: 'HS_ADMIN',
                format: 'admin',
                valueJson: JSON.stringify({ handle: `0.NA/${prefixes.b}`, index: 200, permissions: '111111111111' }),
                ttl: 0,
                access: 'public',
                grantees: [],
              },
            ],
            template: undefined,
            idempotencyKey: '',
          },
          tokens.a,
        ),
      );
      expect(viaGrpc.code).toBe(GrpcStatus.PERMISSION_DENIED);
      expect((await get(forged)).status).toBe(404);
    });

    it("lets an owner name its own prefix record in HS_ADMIN and keeps index 100 the server's", async () => {
      const handle = `${prefixes.a}/ADMINED-1`;
      const written = await put('a', handle, [url('x'), adminOf(`0.NA/${prefixes.a}`), { ...adminOf(`0.NA/${prefixes.b}`), index: 100 }]);
      expect(written.status).toBe(201);
      const anonymous = await get(handle);
      // Issue 8.3: the server's HS_ADMIN at 100 is public too.
      expect(anonymous.body.values.map((v: { index: number; type: string }) => [v.index, v.type])).toEqual([
        [1, 'URL'],
        [2, 'HS_ADMIN'],
        [100, 'HS_ADMIN'],
      ]);
      const asOwner = await get(`${handle}?index=100`, 'a');
      expect(asOwner.body.values).toEqual([
        expect.objectContaining({
          type: 'HS_ADMIN',
          data: { format: 'admin', value: { handle: `0.NA/${prefixes.a}`, index: 200, permissions: '011111110011' } },
        }),
      ]);
    });

    it('leaves node-level types to the platform operator and never shows an HS_SECKEY publicly', async () => {
      const site = { index: 3, type: 'HS_SITE', data: { format: 'site', value: { version: 1, servers: [] } } };
      const refused = await put('a', `${prefixes.a}/SITE-1`, [url('x'), site]);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('VALUE_NOT_PERMITTED');
      const serv = { index: 3, type: 'HS_SERV', data: { format: 'string', value: '0.NA/88.100' } };
      expect((await put('a', `${prefixes.a}/SERV-1`, [url('x'), serv])).status).toBe(403);

      const seckey = { index: 4, type: 'HS_SECKEY', data: { format: 'string', value: 's3cret' } };
      expect((await put('a', `${prefixes.a}/KEYED-1`, [url('x'), { ...seckey, access: 'public' }])).status).toBe(400);
      expect((await put('a', `${prefixes.a}/KEYED-1`, [url('x'), seckey])).status).toBe(201);
      const types = async (who?: string) => (await get(`${prefixes.a}/KEYED-1`, who)).body.values.map((v: { type: string }) => v.type);
      expect(await types()).toEqual(['URL', 'HS_ADMIN']);
      expect(await types('b')).toEqual(['URL', 'HS_ADMIN']);
      expect(await types('a')).toEqual(['URL', 'HS_SECKEY', 'HS_ADMIN']);
      const found = await request(node.httpUrl).get('/v1/identifiers/reverse?type=HS_SECKEY&value=s3cret');
      expect(found.body.items).toEqual([]);
    });

    it.each([
      ['an admin value that is a plain string', { index: 2, type: 'HS_ADMIN', data: { format: 'admin', value: `0.NA/88.100` } }],
      [
        'admin permissions that are not 12 flags of 0/1',
        adminOf('0.NA/88.100', { data: { format: 'admin', value: { handle: '0.NA/88.100', index: 200, permissions: 'all' } } }),
      ],
      ['hex that is not hex', { index: 2, type: 'DATA', data: { format: 'hex', value: 'zz' } }],
      ['base64 that is not base64', { index: 2, type: 'DATA', data: { format: 'base64', value: '!!!' } }],
      ['an HS_ADMIN that is not in the admin format', { index: 2, type: 'HS_ADMIN', data: { format: 'string', value: '0.NA/88.100' } }],
      ['a public key that is no key', { index: 2, type: 'HS_PUBKEY', data: { format: 'key', value: 'not base64!' } }],
    ])('refuses %s with 400 and Handle code 202', async (_name, value) => {
      const res = await put('a', `${prefixes.a}/MALFORMED`, [url('x'), value]);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(HANDLE_JSON);
      expect(res.body.responseCode).toBe(202);
      expect((await get(`${prefixes.a}/MALFORMED`, 'a')).status).toBe(404);
    });
  });

  describe('integers past their column and deeply nested values (point 9)', () => {
    const handle = () => `${prefixes.a}/BOUNDED`;
    /** A PUT whose one value holds an array nested `depth` deep, sent as the JSON text a client would send. */
    const putNested = (depth: number) =>
      request(node.httpUrl)
        .put(`/api/handles/${handle()}`)
        .auth(tokens.a, { type: 'bearer' })
        .set('content-type', 'application/json')
        .send(`{"values":[{"index":1,"type":"DATA","data":{"format":"site","value":{"v":${nestedJson(depth)}}}}]}`);

    it.each([
      ['an index past 32 bits', () => put('a', handle(), [{ ...url('x'), index: 2 ** 31 }])],
      ['a ttl past 32 bits', () => put('a', handle(), [{ ...url('x'), ttl: 2 ** 31 }])],
      ['a template version past 32 bits', () => put('a', handle(), [url('x')], { template: { kind: 'pump', version: 2 ** 31 } })],
      ['an If-Match version past 32 bits', () => put('a', handle(), [url('x')], {}, { 'If-Match': '"2147483648"' })],
      ['a value nested 5,000 deep', () => putNested(5_000)],
    ])('answers a PUT with %s with 400, never 500', async (_name, send) => {
      const res = await send();
      expect(res.status).toBe(400);
      expect(res.body.detail ?? res.body.message).toEqual(expect.any(String));
    });

    it('names the limit a deep value breaks', async () => {
      const shallow = await putNested(40);
      expect(shallow.status).toBe(400);
      expect(shallow.body).toMatchObject({ responseCode: 202, detail: 'Value 1: data.value is nested deeper than 32 levels' });
      const deep = await putNested(5_000);
      expect(JSON.stringify(deep.body)).toMatch(/nested deeper than \d+ levels/);
    });

    it('answers a template version past 32 bits in a path or a batch with problem+json 400', async () => {
      const path = await request(node.httpUrl).get('/v1/templates/pump/2147483648').auth(tokens.a, { type: 'bearer' });
      expect(path.status).toBe(400);
      expect(path.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(path.body.detail).toMatch(/1 to 2147483647/);
      const batch = await postBatch('a', [{ handle: handle(), template: { kind: 'pump', version: 2 ** 31 }, values: [url('x')] }]);
      expect(batch.status).toBe(400);
      expect(batch.body.errors).toEqual([{ field: 'items.0.template.version', message: 'must be <= 2147483647' }]);
    });

    it('answers gRPC value_json nested 5,000 deep and versions out of range with INVALID_ARGUMENT', async () => {
      const register = (valueJson: string) =>
        grpc.register({ handle: handle(), values: [grpcValue(valueJson)], template: undefined, idempotencyKey: '' }, tokens.a);
      const deep = await grpcFailure(register(`{"v":${nestedJson(5_000)}}`));
      expect(deep).toEqual({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: 'INVALID_VALUE: Value 1: value_json is nested deeper than 32 levels',
      });
      const deepInString = JSON.stringify({ v: '['.repeat(5_000) });
      expect(await register(deepInString)).toMatchObject({ responseCode: 1 });
      const stale = await grpcFailure(
        grpc.update(
          { handle: handle(), values: [grpcValue('{}')], expectedVersion: -1, template: undefined, idempotencyKey: '', indexes: [] },
          tokens.a,
        ),
      );
      expect(stale.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      const removed = await grpcFailure(grpc.delete({ handle: handle(), expectedVersion: -2, idempotencyKey: '', indexes: [] }, tokens.a));
      expect(removed.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    });
  });

  it('matches template patterns in linear time and refuses at store time those RE2 cannot run (point 10)', async () => {
    const create = (kind: string, pattern: string) =>
      request(node.httpUrl)
        .post('/v1/templates')
        .auth(tokens.op, { type: 'bearer' })
        .send({ kind, schema: { type: 'object', properties: { SERIAL: { type: 'string', pattern } } } });
    expect((await create('redos', '^(a+)+$')).status).toBe(201);
    // With a backtracking engine this request would never come back (the event loop stalls).
    const checked = await put(
      'a',
      `${prefixes.a}/REDOS-1`,
      [{ index: 1, type: 'SERIAL', data: { format: 'string', value: `${'a'.repeat(40)}!` } }],
      {
        template: { kind: 'redos' },
      },
    );
    expect(checked.status).toBe(400);
    expect(checked.body).toMatchObject({ responseCode: 202 });
    expect(checked.body.detail).toContain('must match pattern "^(a+)+$"');
    const fine = await put(
      'a',
      `${prefixes.a}/REDOS-1`,
      [{ index: 1, type: 'SERIAL', data: { format: 'string', value: 'a'.repeat(40) } }],
      {
        template: { kind: 'redos' },
      },
    );
    expect(fine.status).toBe(201);

    const lookahead = await create('lookahead', '^(?=SN)SN-\\d+$');
    expect(lookahead.status).toBe(400);
    expect(lookahead.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(lookahead.body.detail).toContain('pattern "^(?=SN)SN-\\\\d+$" cannot be used');
    expect((await request(node.httpUrl).get('/v1/templates/lookahead').auth(tokens.a, { type: 'bearer' })).status).toBe(400);
  });

  it('answers errors outside /api/handles as problem+json and keeps Handle JSON on /api/handles (point 12)', async () => {
    const invalid = await postBatch('a', []);
    expect(invalid.status).toBe(400);
    expect(invalid.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(invalid.body).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'items', message: 'must NOT have fewer than 1 items' }],
    });
    expect(invalid.body.responseCode).toBeUndefined();
    const anonymous = await request(node.httpUrl).post('/v1/identifiers/batch').send({ items: [] });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(anonymous.body.responseCode).toBeUndefined();

    const handleApi = await get('88..100/X');
    expect(handleApi.status).toBe(400);
    expect(handleApi.headers['content-type']).toMatch(HANDLE_JSON);
    expect(handleApi.body.responseCode).toBe(102);
  });
});
