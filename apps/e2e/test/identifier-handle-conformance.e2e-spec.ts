import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { identifierGrpcClient, enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';

const SCOPES = ['tenants:read', 'tenants:write', 'clients:write', 'identifiers:write'];

/**
 * Issue 8, points 3 and 6: the Handle REST API as a Handle client reads it — HS_ADMIN published in
 * its standard shape, the documented HTTP status for each response code, `responseCode` on every
 * 404 under /api/, and no unsafe character echoed in an error.
 */
describe('identifier node: Handle REST API conformance', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let grpc: ReturnType<typeof identifierGrpcClient>;
  let owner: CreatedTenant, other: CreatedTenant;
  const tokens: Record<string, string> = {};
  const prefixes: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnvironment('identifier-conformance');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    grpc = identifierGrpcClient(node.grpcUrl);
    const op = await operatorToken(tenancy);
    owner = await createTenant(tenancy, op, { kind: 'group' });
    other = await createTenant(tenancy, op, { kind: 'group' });
    tokens.owner = (await clientToken(tenancy, op, owner.id, SCOPES)).token;
    tokens.other = (await clientToken(tenancy, op, other.id, SCOPES)).token;
    for (const [who, tenant] of Object.entries({ owner, other })) {
      prefixes[who] = await enterprisePrefixOf(node.httpUrl, tokens[who], `the prefix of ${tenant.id}`);
    }
  });

  afterAll(async () => {
    grpc?.close();
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  const put = (who: string, handle: string, values: unknown[]) =>
    request(node.httpUrl).put(`/api/handles/${handle}`).auth(tokens[who], { type: 'bearer' }).send({ values });
  const get = (path: string, who?: string) => {
    const r = request(node.httpUrl).get(path).set('accept', 'application/json');
    return who ? r.auth(tokens[who], { type: 'bearer' }) : r;
  };
  const url = (value: string) => ({ index: 1, type: 'URL', data: { format: 'string', value } });
  /** The HS_ADMIN value every record under `prefix` carries, exactly as the Handle System writes it. */
  const hsAdmin = (prefix: string) => ({
    index: 100,
    type: 'HS_ADMIN',
    data: { format: 'admin', value: { handle: `0.NA/${prefix}`, index: 200, permissions: '011111110011' } },
    ttl: 86400,
    timestamp: expect.any(String),
  });
  const tenantIds = () => [owner.id, other.id];
  /** The body of an error without its request id, which differs per request. */
  const errorBody = (res: request.Response) => {
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const { requestId, ...body } = res.body as Record<string, unknown>;
    expect(requestId).toEqual(expect.any(String));
    return body;
  };

  describe('HS_ADMIN is public (point 3)', () => {
    it('is in the anonymous answer, alike from the cached fast path, the uncached path and auth=true, with no tenant id', async () => {
      const handle = `${prefixes.owner}/ADMIN-PUBLIC-1`;
      expect((await put('owner', handle, [url('https://example.com/1')])).status).toBe(201);

      const first = await get(`/api/handles/${handle}`); // not in memory yet: the resolution service answers
      const cached = await get(`/api/handles/${handle}`); // bytes serialised once per cached record
      const authoritative = await get(`/api/handles/${handle}?auth=true`);
      expect([first, cached, authoritative].map((r) => [r.status, r.headers['x-iip-resolution-source']])).toEqual([
        [200, 'database'],
        [200, 'memory'],
        [200, 'database'],
      ]);
      expect(cached.body).toEqual({
        responseCode: 1,
        handle,
        values: [{ ...url('https://example.com/1'), ttl: 86400, timestamp: expect.any(String) }, hsAdmin(prefixes.owner)],
      });
      expect(first.text).toBe(cached.text);
      expect(authoritative.text).toBe(cached.text);
      for (const res of [first, cached, authoritative]) for (const id of tenantIds()) expect(res.text).not.toContain(id);

      // The owner reads the same admin value: the owner reference lives with the prefix, not in a value.
      const asOwner = await get(`/api/handles/${handle}?index=100`, 'owner');
      expect(asOwner.body).toEqual({ responseCode: 1, handle, values: [hsAdmin(prefixes.owner)] });
      expect(asOwner.text).not.toContain(owner.id);
      // And gRPC says the same.
      const viaGrpc = await grpc.resolve({ handle, types: ['HS_ADMIN'], indexes: [], authoritative: false });
      expect(viaGrpc.values.map((v) => [v.index, v.type, v.format, JSON.parse(v.valueJson)])).toEqual([
        [100, 'HS_ADMIN', 'admin', { handle: `0.NA/${prefixes.owner}`, index: 200, permissions: '011111110011' }],
      ]);
    });

    it('is in the prefix record 0.NA/<prefix>, with no tenant id', async () => {
      const res = await get(`/api/handles/0.NA/${prefixes.owner}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        responseCode: 1,
        handle: `0.NA/${prefixes.owner}`,
        values: [
          { index: 1, type: 'IIP_PREFIX_KIND', data: { format: 'string', value: 'enterprise' }, ttl: 86400, timestamp: expect.any(String) },
          // Where the node's native Handle interfaces are (issue 8, native protocol).
          expect.objectContaining({ index: 3, type: 'HS_SITE', data: expect.objectContaining({ format: 'site' }) }),
          hsAdmin(prefixes.owner),
        ],
      });
      for (const id of tenantIds()) expect(res.text).not.toContain(id);
    });

    it('does not make a record with nothing else public visible: still exactly "handle not found"', async () => {
      const hidden = `${prefixes.owner}/ADMIN-HIDDEN-1`;
      expect((await put('owner', hidden, [{ ...url('x'), access: 'tenant' }])).status).toBe(201);
      const missing = `${prefixes.owner}/ADMIN-MISSING-1`;
      for (const path of [hidden, `${hidden}?index=100`, `${hidden}?type=HS_ADMIN`]) {
        const res = await get(`/api/handles/${path}`, 'other');
        expect(res.status).toBe(404);
        expect(errorBody(res)).toEqual({
          responseCode: 100,
          handle: hidden,
          message: `${hidden} was not found`,
          type: expect.any(String),
          title: expect.any(String),
          status: 404,
          detail: `${hidden} was not found`,
          code: 'HANDLE_NOT_FOUND',
          instance: `/api/handles/${path}`,
        });
        const absent = await get(`/api/handles/${path.replace(hidden, missing)}`, 'other');
        expect(JSON.stringify(errorBody(absent)).split(missing).join(hidden)).toBe(JSON.stringify(errorBody(res)));
      }
      expect((await get(`/api/handles/${hidden}`)).status).toBe(404);
      expect((await get(`/api/handles/${hidden}`, 'owner')).body.values.map((v: { index: number }) => v.index)).toEqual([1, 100]);
    });
  });

  describe('status codes (point 6)', () => {
    it('answers "values not found" (200) with HTTP 200 and no values, on every path and over gRPC', async () => {
      const handle = `${prefixes.owner}/NO-SUCH-TYPE-1`;
      expect((await put('owner', handle, [url('https://example.com/2')])).status).toBe(201);
      const expected = { responseCode: 200, handle, values: [] };
      for (const [path, who] of [
        [`/api/handles/${handle}?type=PHONE`, undefined],
        [`/api/handles/${handle}?index=7`, undefined],
        [`/api/handles/${handle}?type=PHONE&auth=true`, undefined],
        [`/api/handles/${handle}?type=PHONE`, 'owner'],
        [`/api/handles/${handle}?type=PHONE&pretty`, undefined],
      ] as const) {
        const res = await get(path, who);
        expect([path, res.status, res.headers['content-type'], res.body]).toEqual([path, 200, 'application/json; charset=utf-8', expected]);
      }
      const viaGrpc = await grpc.resolve({ handle, types: ['PHONE'], indexes: [], authoritative: false });
      expect(viaGrpc).toEqual({ responseCode: 200, handle, values: [] });
    });

    it('answers "server not responsible" (301) with HTTP 400, as the Handle REST API documents', async () => {
      const res = await get('/api/handles/88.999.1/THING');
      expect(res.status).toBe(400);
      expect(errorBody(res)).toEqual({
        responseCode: 301,
        handle: '88.999.1/THING',
        message: 'This node is not responsible for prefix 88.999.1',
        type: expect.any(String),
        title: expect.any(String),
        status: 400,
        detail: 'This node is not responsible for prefix 88.999.1',
        code: 'SERVER_NOT_RESPONSIBLE',
        instance: '/api/handles/88.999.1/THING',
      });
      // The same with a token, through the full controller.
      const withToken = await get('/api/handles/88.999.1/THING', 'owner');
      expect([withToken.status, withToken.body.responseCode]).toEqual([400, 301]);
    });

    it.each([
      ['an unknown path', 'get', '/api/nothing'],
      ['the handles path without a handle', 'get', '/api/handles'],
      ['the handles path with an empty handle', 'get', '/api/handles/'],
      ['/api itself', 'get', '/api'],
      ['a method the Handle API lacks', 'post', '/api/handles/88.100/X'],
      ['an unknown path, with a token', 'get', '/api/nothing/deeper'],
    ] as const)('answers 404 with responseCode 100 for %s', async (name, method, path) => {
      let r = request(node.httpUrl)[method](path).set('accept', 'application/json');
      if (name.includes('token')) r = r.auth(tokens.owner, { type: 'bearer' });
      const res = await r;
      expect(res.status).toBe(404);
      const body = errorBody(res);
      expect(body).toEqual({
        responseCode: 100,
        message: expect.stringContaining('The Handle API has no'),
        type: expect.any(String),
        title: expect.any(String),
        status: 404,
        detail: expect.stringContaining('The Handle API has no'),
        code: expect.any(String),
        instance: path,
      });
    });

    it('answers a body the parser refuses anywhere under /api/ in the Handle shape', async () => {
      const res = await request(node.httpUrl).post('/api/nothing').set('content-type', 'application/json').send('{"values": [');
      expect(res.status).toBe(400);
      expect(errorBody(res)).toMatchObject({ responseCode: expect.any(Number), status: 400, instance: '/api/nothing' });
      // Outside /api/ the platform's problem+json stays.
      const elsewhere = await request(node.httpUrl)
        .post('/v1/identifiers/batch')
        .set('content-type', 'application/json')
        .send('{"items": [');
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.headers['content-type']).toContain('application/problem+json');
      expect(elsewhere.body.responseCode).toBeUndefined();
    });
  });

  describe('errors never echo control or bidi characters (point 6)', () => {
    it.each([
      ['a right-to-left override', '%E2%80%AE', '\u202E', '\\u202E'],
      ['a bell', '%07', '\u0007', '\\u0007'],
      ['a C1 control', '%C2%85', '\u0085', '\\u0085'],
      ['a first-strong isolate', '%E2%81%A8', '\u2068', '\\u2068'],
    ])('escapes %s in the handle an error names', async (_name, encoded, raw, escaped) => {
      const path = `/api/handles/${prefixes.owner}/EVIL${encoded}TXT`;
      for (const who of [undefined, 'owner']) {
        const res = await get(path, who);
        expect(res.status).toBe(400);
        const body = errorBody(res);
        expect(body).toMatchObject({
          responseCode: 102,
          handle: `${prefixes.owner}/EVIL${escaped}TXT`,
          code: 'INVALID_HANDLE',
          instance: path,
        });
        expect(res.text).not.toContain(raw);
        expect(JSON.stringify(body)).not.toContain(raw);
      }
      const written = await put('owner', `${prefixes.owner}/EVIL${encoded}TXT`, [url('x')]);
      expect(written.status).toBe(400);
      expect(written.body).toMatchObject({ responseCode: 102, handle: `${prefixes.owner}/EVIL${escaped}TXT` });
      expect(JSON.stringify(written.body)).not.toContain(raw);
    });
  });
});
