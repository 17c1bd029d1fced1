import request from 'supertest';
import { ProtoFiles, protoRoot } from '@iip/contracts';
import { TestEnvironment, createTestEnvironment, defineBadInputSuite } from '@iip/platform-testing';
import { RunningTenancy } from '../src/tenancy-app';
import { createTenant, makeCreditCode, operatorToken, startTestTenancy } from './support';

interface Case {
  name: string;
  method: 'get' | 'post' | 'patch';
  path: () => string;
  contentType?: string;
  /** Evaluated when the case runs, after the fixtures exist. */
  body?: string | (() => string);
  status: number;
  /** A field the problem must name, when the input has one. */
  field?: string;
}

/**
 * Whatever a client sends, the answer is a 4xx problem+json that says what is wrong, never a
 * 500. Each row is one kind of bad input.
 */
describe('bad input gets a clear 4xx problem+json', () => {
  let env: TestEnvironment;
  let app: RunningTenancy;
  let token: string;
  let groupId: string;
  let groupVersion: number;
  let jobId: string;

  beforeAll(async () => {
    env = await createTestEnvironment('badinput');
    app = await startTestTenancy(env, { HTTP_JSON_LIMIT: '16kb', BULK_BODY_LIMIT: '64kb' });
    token = await operatorToken(app);
    const group = await createTenant(app, token, { kind: 'group' });
    groupId = group.id;
    groupVersion = 1;
    const job = await request(app.httpUrl)
      .post(`/v1/tenants/${groupId}/onboarding-jobs`)
      .auth(token, { type: 'bearer' })
      .type('application/x-ndjson')
      .send(`${json({ kind: 'subsidiary', name: 'Bulk one', creditCode: makeCreditCode() })}\n`);
    jobId = job.body.id as string;
  });

  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  const valid = () => ({ kind: 'group', name: 'Valid name', creditCode: makeCreditCode() });
  const json = (v: unknown) => JSON.stringify(v);

  const cases: Case[] = [
    { name: 'malformed JSON', method: 'post', path: () => '/v1/tenants', body: '{"kind": "group", ', status: 400 },
    { name: 'a JSON array instead of an object', method: 'post', path: () => '/v1/tenants', body: '[1,2,3]', status: 400 },
    { name: 'a JSON string instead of an object', method: 'post', path: () => '/v1/tenants', body: '"group"', status: 400 },
    { name: 'an empty body', method: 'post', path: () => '/v1/tenants', body: '', status: 400 },
    {
      name: 'an unknown field',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), colour: 'red' }),
      status: 400,
      field: 'colour',
    },
    {
      name: 'an unknown nested field',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), contact: { fax: '1' } }),
      status: 400,
      field: 'contact.fax',
    },
    {
      name: 'an unknown kind',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), kind: 'empire' }),
      status: 400,
      field: 'kind',
    },
    {
      name: 'a platform kind',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), kind: 'platform' }),
      status: 400,
      field: 'kind',
    },
    { name: 'a wrong type', method: 'post', path: () => '/v1/tenants', body: json({ ...valid(), name: 42 }), status: 400, field: 'name' },
    {
      name: 'a negative quota',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), quotas: { maxDevices: -1, maxTelemetryPointsPerSecond: 5 } }),
      status: 400,
      field: 'quotas.maxDevices',
    },
    {
      name: 'an oversized body',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), name: 'x'.repeat(20_000) }),
      status: 413,
    },
    {
      name: 'an unsupported media type',
      method: 'post',
      path: () => '/v1/tenants',
      contentType: 'application/xml',
      body: '<tenant/>',
      status: 415,
    },
    {
      name: 'a credit code with a bad check character',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), creditCode: '91350100M000100Y44' }),
      status: 400,
      field: 'creditCode',
    },
    {
      name: 'a credit code of the wrong length',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), creditCode: '91350100M000100Y4' }),
      status: 400,
      field: 'creditCode',
    },
    {
      name: 'a credit code with a forbidden letter',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), creditCode: '91350100M000100I43' }),
      status: 400,
      field: 'creditCode',
    },
    {
      name: 'a lower-case credit code',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), creditCode: '91350100m000100y43' }),
      status: 400,
      field: 'creditCode',
    },
    {
      name: 'a non-UUID parent',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), parentId: 'abc' }),
      status: 400,
      field: 'parentId',
    },
    {
      name: 'a kind its parent cannot hold',
      method: 'post',
      path: () => '/v1/tenants',
      body: () => json({ ...valid(), kind: 'park-member', parentId: groupId }),
      status: 422,
    },
    {
      name: 'a duplicate credit code',
      method: 'post',
      path: () => '/v1/tenants',
      body: json({ ...valid(), creditCode: '91350100M000100Y43' }),
      status: 409,
    },
    { name: 'a non-UUID tenant id', method: 'get', path: () => '/v1/tenants/not-a-uuid', status: 400 },
    { name: 'a limit of zero', method: 'get', path: () => `/v1/tenants/${groupId}/descendants?limit=0`, status: 400, field: 'limit' },
    {
      name: 'a limit too large',
      method: 'get',
      path: () => `/v1/tenants/${groupId}/descendants?limit=100000`,
      status: 400,
      field: 'limit',
    },
    { name: 'a non-numeric limit', method: 'get', path: () => `/v1/tenants/${groupId}/descendants?limit=ten`, status: 400, field: 'limit' },
    {
      name: 'a repeated limit',
      method: 'get',
      path: () => `/v1/tenants/${groupId}/descendants?limit=1&limit=2`,
      status: 400,
      field: 'limit',
    },
    {
      name: 'a forged cursor',
      method: 'get',
      path: () => `/v1/tenants/${groupId}/descendants?cursor=${Buffer.from('["x"]').toString('base64url')}`,
      status: 400,
    },
    {
      name: 'a cursor with bad characters',
      method: 'get',
      path: () => `/v1/tenants/${groupId}/descendants?cursor=%00%01`,
      status: 400,
      field: 'cursor',
    },
    {
      name: 'an unknown query parameter',
      method: 'get',
      path: () => `/v1/tenants/${groupId}/descendants?sort=name`,
      status: 400,
      field: 'sort',
    },
    {
      name: 'an update without a version',
      method: 'patch',
      path: () => `/v1/tenants/${groupId}`,
      body: json({ name: 'New' }),
      status: 400,
      field: 'version',
    },
    {
      name: 'an update with a stale version',
      method: 'patch',
      path: () => `/v1/tenants/${groupId}`,
      body: () => json({ name: 'New', version: groupVersion + 5 }),
      status: 409,
    },
    {
      name: 'a bulk job that is neither NDJSON nor CSV',
      method: 'post',
      path: () => `/v1/tenants/${groupId}/onboarding-jobs`,
      body: json({ rows: [] }),
      status: 400,
    },
    {
      name: 'a bulk CSV with unknown columns',
      method: 'post',
      path: () => `/v1/tenants/${groupId}/onboarding-jobs`,
      contentType: 'text/csv',
      body: 'colour,size\nred,big\n',
      status: 400,
    },
    {
      name: 'an empty bulk NDJSON',
      method: 'post',
      path: () => `/v1/tenants/${groupId}/onboarding-jobs`,
      contentType: 'application/x-ndjson',
      body: '\n',
      status: 400,
    },
    {
      name: 'an oversized bulk body',
      method: 'post',
      path: () => `/v1/tenants/${groupId}/onboarding-jobs`,
      contentType: 'application/x-ndjson',
      body: `${json(valid())}\n`.repeat(2000),
      status: 413,
    },
    {
      name: 'a client with a malformed scope',
      method: 'post',
      path: () => `/v1/tenants/${groupId}/clients`,
      body: json({ name: 'c', scopes: ['ALL THE THINGS'] }),
      status: 400,
      field: 'scopes',
    },
    {
      name: 'a client with a scope the caller does not hold',
      method: 'post',
      path: () => `/v1/tenants/${groupId}/clients`,
      body: json({ name: 'c', scopes: ['devices:admin'] }),
      status: 403,
    },
    { name: 'an unknown route', method: 'get', path: () => '/v1/nothing-here', status: 404 },
  ];

  it.each(cases)('$name → $status', async (c) => {
    let req = request(app.httpUrl)[c.method](c.path()).auth(token, { type: 'bearer' });
    if (c.body !== undefined)
      req = req.set('Content-Type', c.contentType ?? 'application/json').send(typeof c.body === 'function' ? c.body() : c.body);
    const res = await req;
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: c.status, type: expect.stringMatching(/^urn:iip:problem:/), title: expect.any(String) });
    if (c.field) expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(c.field);
  });

  it('keeps serving after all of that', async () => {
    const res = await request(app.httpUrl).get('/health/live');
    expect(res.status).toBe(200);
    const metrics = await request(app.httpUrl).get('/metrics');
    expect(metrics.text).not.toMatch(/status="5\d\d"/);
  });

  describe('the platform bad-input table, over every route and RPC', () => {
    defineBadInputSuite(() => ({
      httpUrl: app.httpUrl,
      token,
      maxJsonBytes: 16 * 1024,
      // Real ids where a route would otherwise stop at "not found"; never a client that exists (DELETE revokes).
      pathParams: (path, name) =>
        path.startsWith('/v1/onboarding-jobs/')
          ? jobId
          : (
              {
                id: groupId,
                tenantId: groupId,
                clientId: 'iipc_nosuchclient',
                granteeTenantId: groupId,
                dataScope: 'telemetry:read',
              } as Record<string, string>
            )[name],
      grpc: { url: app.grpcUrl, protoRoot: protoRoot(), protoFiles: [ProtoFiles.tenancy] },
    }));
  });
});
