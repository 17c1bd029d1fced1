import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { startTestDeviceRegistry } from './support';

interface Case {
  name: string;
  method: 'post' | 'patch' | 'put';
  path: () => string;
  contentType?: string;
  body: () => string;
  status: number;
  /** A field the problem must name, or a code it must carry. */
  field?: string;
  code?: string;
}

/**
 * The registry's own bad input, row by row (the platform table in bad-input.e2e-spec.ts covers
 * what every route shares): each gets a 4xx problem+json that says what is wrong, never a 500.
 */
describe('device registry: malformed bodies, unknown fields, bad units and dates, oversized twins and files', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let registry: ServiceRuntime;
  let token: string;
  let modelId: string;
  let deviceId: string;

  beforeAll(async () => {
    env = await createTestEnvironment('devbadtable');
    tenancy = await startTestTenancy(env);
    registry = await startTestDeviceRegistry(env, tenancy.httpUrl, {
      DEVICE_REGISTRY_IMPORT_MAX_MB: '1',
      DEVICE_REGISTRY_IMPORT_MAX_ROWS: '1000',
    });
    const op = await operatorToken(tenancy);
    const group = await createTenant(tenancy, op, { kind: 'group' });
    token = (await clientToken(tenancy, op, group.id, ['devices:read', 'devices:write', 'models:write'])).token;
    const model = await waitFor(
      async () => {
        const res = await request(registry.httpUrl)
          .post('/v1/models')
          .auth(token, { type: 'bearer' })
          .send({ name: 'M', definition: { properties: { label: { type: 'string', access: 'read-write' } } } });
        return res.status === 201 ? res : undefined;
      },
      20_000,
      'the registry to know the group',
    );
    modelId = model.body.id;
    await request(registry.httpUrl).post(`/v1/models/${modelId}/versions/1/publish`).auth(token, { type: 'bearer' });
    const device = await request(registry.httpUrl)
      .post('/v1/devices')
      .auth(token, { type: 'bearer' })
      .send({ name: 'D', manufacturer: 'M', serial: 'S-1', model: { id: modelId } });
    deviceId = device.body.id;
  });

  afterAll(async () => {
    await registry?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  const json = (v: unknown) => JSON.stringify(v);
  const device = (extra: object = {}) => json({ name: 'D2', manufacturer: 'M', serial: 'S-2', model: { id: modelId }, ...extra });
  const cases: Case[] = [
    { name: 'malformed JSON', method: 'post', path: () => '/v1/devices', body: () => '{"name": "D", ', status: 400 },
    { name: 'an array instead of a device', method: 'post', path: () => '/v1/devices', body: () => '[]', status: 400 },
    {
      name: 'an unknown field',
      method: 'post',
      path: () => '/v1/devices',
      body: () => device({ colour: 'red' }),
      status: 400,
      field: 'colour',
    },
    {
      name: 'a missing serial',
      method: 'post',
      path: () => '/v1/devices',
      body: () => json({ name: 'D', manufacturer: 'M', model: { id: modelId } }),
      status: 400,
      field: 'serial',
    },
    {
      name: 'a date that does not exist',
      method: 'post',
      path: () => '/v1/devices',
      body: () => device({ profile: { commissionedOn: '2023-02-30' } }),
      status: 400,
      field: 'profile.commissionedOn',
    },
    {
      name: 'a commissioning date in the future',
      method: 'post',
      path: () => '/v1/devices',
      body: () => device({ profile: { commissionedOn: '2999-01-01' } }),
      status: 400,
      field: 'profile.commissionedOn',
    },
    {
      name: 'an efficiency grade of 4',
      method: 'post',
      path: () => '/v1/devices',
      body: () => device({ profile: { efficiencyGrade: 4 } }),
      status: 400,
      field: 'profile.efficiencyGrade',
    },
    {
      name: 'an unknown category',
      method: 'post',
      path: () => '/v1/devices',
      body: () => device({ profile: { category: 'spaceship' } }),
      status: 400,
      field: 'profile.category',
    },
    {
      name: 'a model id that is no UUID',
      method: 'post',
      path: () => '/v1/devices',
      body: () => device({ model: { id: 'pump' } }),
      status: 400,
      field: 'model.id',
    },
    {
      name: 'a unit that is not UCUM',
      method: 'post',
      path: () => '/v1/models',
      body: () => json({ name: 'Bad', definition: { properties: { t: { type: 'float', unit: 'degrees', access: 'read-only' } } } }),
      status: 400,
      field: 'definition.properties.t.unit',
    },
    {
      name: 'an unknown property type',
      method: 'post',
      path: () => '/v1/models',
      body: () => json({ name: 'Bad', definition: { properties: { t: { type: 'quaternion', access: 'read-only' } } } }),
      status: 400,
      field: 'definition.properties.t.type',
    },
    {
      name: 'a TD that is not an object',
      method: 'post',
      path: () => '/v1/models/import-td',
      body: () => json({ thingDescription: 'lamp' }),
      status: 400,
      field: 'thingDescription',
    },
    {
      name: 'a twin patch that is not an object',
      method: 'patch',
      path: () => `/v1/devices/${deviceId}/twin/reported`,
      body: () => '[1]',
      status: 400,
    },
    {
      name: 'a twin value of the wrong type',
      method: 'patch',
      path: () => `/v1/devices/${deviceId}/twin/desired`,
      body: () => json({ label: 5 }),
      status: 400,
      field: 'desired.label',
    },
    {
      name: 'a 300 KB twin',
      method: 'patch',
      path: () => `/v1/devices/${deviceId}/twin/reported`,
      body: () => json({ label: 'x'.repeat(300 * 1024) }),
      status: 413,
      code: 'TWIN_TOO_LARGE',
    },
    {
      name: 'a lifecycle state that does not exist',
      method: 'post',
      path: () => `/v1/devices/${deviceId}/lifecycle`,
      body: () => json({ status: 'retired' }),
      status: 400,
      field: 'status',
    },
    {
      name: 'an x509 credential without certificate',
      method: 'post',
      path: () => `/v1/devices/${deviceId}/credentials`,
      body: () => json({ kind: 'x509' }),
      status: 400,
      code: 'CREDENTIAL_INPUT_INVALID',
    },
    {
      name: 'an import file over the size limit',
      method: 'post',
      path: () => '/v1/device-imports',
      contentType: 'application/x-ndjson',
      body: () => `${device()}\n`.repeat(12_000),
      status: 413,
      code: 'IMPORT_TOO_LARGE',
    },
    {
      name: 'an import over the row limit',
      method: 'post',
      path: () => '/v1/device-imports',
      contentType: 'application/x-ndjson',
      body: () => '{}\n'.repeat(1001),
      status: 413,
      code: 'IMPORT_TOO_LARGE',
    },
    {
      name: 'a CSV with an unknown column',
      method: 'post',
      path: () => '/v1/device-imports',
      contentType: 'text/csv',
      body: () => 'name,colour\nD,red\n',
      status: 400,
      code: 'IMPORT_UNREADABLE',
    },
    {
      name: 'an empty import',
      method: 'post',
      path: () => '/v1/device-imports',
      contentType: 'application/x-ndjson',
      body: () => '\n\n',
      status: 400,
    },
    {
      name: 'an import sent as JSON',
      method: 'post',
      path: () => '/v1/device-imports',
      body: () => json([{}]),
      status: 400,
      field: 'Content-Type',
    },
    {
      name: 'a model without a name',
      method: 'post',
      path: () => '/v1/models',
      body: () => json({ name: '', definition: {} }),
      status: 400,
      field: 'name',
    },
  ];

  it.each(cases)('$name → $status', async (c) => {
    const agent = request(registry.httpUrl);
    const res = await agent[c.method](c.path())
      .auth(token, { type: 'bearer' })
      .set('Content-Type', c.contentType ?? 'application/json')
      .send(c.body());
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toContain('application/problem+json');
    if (c.field) expect((res.body.errors ?? []).map((e: { field: string }) => e.field)).toContain(c.field);
    if (c.code) expect(res.body.code).toBe(c.code);
  });

  it('a bad fleet query is a 400 naming q and where', async () => {
    const res = await request(registry.httpUrl).get('/v1/fleet/devices').query({ q: "status = 'a' AND (" }).auth(token, { type: 'bearer' });
    expect([res.status, res.body.errors[0].field]).toEqual([400, 'q']);
    expect(res.body.errors[0].message).toMatch(/position \d+/);
  });
});
