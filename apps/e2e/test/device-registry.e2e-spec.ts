import { status as GrpcStatus, ServiceError } from '@grpc/grpc-js';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';
import { deviceRegistryGrpcClient, startTestDeviceRegistry } from '@iip/device-registry-testing';

const SCOPES = ['tenants:read', 'tenants:write', 'clients:write', 'devices:read', 'devices:write', 'models:write', 'identifiers:write'];

const PUMP_MODEL = {
  name: 'Centrifugal pump',
  definition: {
    properties: {
      temperature: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' },
      speed: { type: 'int', unit: '/min', min: 0, max: 3600, access: 'read-write' },
      mode: { type: 'enum', values: ['auto', 'manual'], access: 'read-write' },
    },
    events: { overheat: { level: 'alert', outputs: { temperature: { type: 'float', unit: 'Cel' } } } },
    commands: { reset: { mode: 'sync' } },
  },
};

/**
 * The device registry with tenancy and identifier running, as a group, its subsidiaries and a
 * park with a member meet it: models, devices, their identifiers, who reads what.
 */
describe('device registry: devices get identifiers; groups read their subsidiaries, parks only count', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let registry: ServiceRuntime;
  let op: string;
  let group: CreatedTenant;
  let groupToken: string;
  let sub: CreatedTenant;
  let subToken: string;
  let siblingToken: string;
  let parkToken: string;
  let member: CreatedTenant;
  let park: CreatedTenant;
  let memberToken: string;
  let pumpModel: string;

  const api = () => request(registry.httpUrl);
  const as = (token: string) => ({
    get: (path: string) => api().get(path).auth(token, { type: 'bearer' }),
    post: (path: string, body: object) => api().post(path).auth(token, { type: 'bearer' }).send(body),
    put: (path: string, body: object) => api().put(path).auth(token, { type: 'bearer' }).send(body),
    patch: (path: string, body: object, headers: Record<string, string> = {}) =>
      api().patch(path).auth(token, { type: 'bearer' }).set(headers).send(body),
  });
  /** A device registration, retried while the registry has not yet heard of a just-onboarded tenant (503). */
  const register = (token: string, body: object) =>
    waitFor(
      async () => {
        const res = await as(token).post('/v1/devices', body);
        return res.status === 503 ? undefined : res;
      },
      20_000,
      'the registry to know the tenant',
    );

  beforeAll(async () => {
    env = await createTestEnvironment('devreg');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    registry = await startTestDeviceRegistry(env, tenancy.httpUrl, {
      DEVICE_REGISTRY_PUBLIC_URL: 'https://devices.example.com',
      DEVICE_REGISTRY_TENANCY_GRPC_URL: tenancy.grpcUrl,
    });
    op = await operatorToken(tenancy);
    group = await createTenant(tenancy, op, { kind: 'group' });
    groupToken = (await clientToken(tenancy, op, group.id, SCOPES)).token;
    // The group onboards its subsidiaries itself.
    sub = await createTenant(tenancy, groupToken, { kind: 'subsidiary', parentId: group.id });
    const sibling = await createTenant(tenancy, groupToken, { kind: 'subsidiary', parentId: group.id });
    subToken = (await clientToken(tenancy, groupToken, sub.id, SCOPES)).token;
    siblingToken = (await clientToken(tenancy, groupToken, sibling.id, SCOPES)).token;
    park = await createTenant(tenancy, op, { kind: 'park' });
    // access:check lets the registry ask tenancy (CheckAccess, with this token) about grants the park holds.
    parkToken = (await clientToken(tenancy, op, park.id, [...SCOPES, 'access:check'])).token;
    member = await createTenant(tenancy, op, { kind: 'park-member', parentId: park.id });
    memberToken = (await clientToken(tenancy, op, member.id, SCOPES)).token;

    // The group's pump model, published so its subsidiaries' devices can pin it.
    const created = await waitFor(
      async () => {
        const res = await as(groupToken).post('/v1/models', PUMP_MODEL);
        return res.status === 503 ? undefined : res;
      },
      20_000,
      'the registry to know the group',
    );
    expect(created.status).toBe(201);
    pumpModel = created.body.id;
    expect((await as(groupToken).post(`/v1/models/${pumpModel}/versions/1/publish`, {})).body.status).toBe('published');
  });

  afterAll(async () => {
    await registry?.close();
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  it("registers a subsidiary's pump, whose handle resolves at identifier within two seconds with the template's values", async () => {
    const prefix = await enterprisePrefixOf(node.httpUrl, subToken, "the subsidiary's prefix");
    const res = await register(subToken, {
      name: 'Cooling water pump 3',
      manufacturer: 'Shanghai Pump Works',
      serial: 'SPW-2012-0042',
      model: { id: pumpModel },
      tags: { line: 'L1', workshop: 'W2' },
      profile: {
        category: 'pump',
        commissionedOn: '2012-05-01',
        ratedPowerKw: 55,
        efficiencyGrade: 3,
        keyProcess: true,
        criticality: 'high',
      },
    });
    const registeredAt = Date.now();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      tenantId: sub.id,
      status: 'provisioned',
      model: { id: pumpModel, name: 'Centrifugal pump', version: 1 },
    });
    const id = res.body.id as string;

    const handle = `${prefix}/dev.${id}`;
    const resolved = await waitFor(
      async () => {
        const r = await request(node.httpUrl).get(`/api/handles/${handle}`);
        return r.status === 200 ? r : undefined;
      },
      10_000,
      'the handle to resolve',
      50,
    );
    const resolvedAfterMs = Date.now() - registeredAt;
    expect(resolvedAfterMs).toBeLessThan(2_000);
    const values = Object.fromEntries(
      (resolved.body.values as { type: string; data: { value: unknown } }[]).map((v) => [v.type, v.data.value]),
    );
    expect(values).toMatchObject({
      URL: `https://devices.example.com/v1/devices/${id}`,
      MANUFACTURER: 'Shanghai Pump Works',
      SERIAL: 'SPW-2012-0042',
      MODEL: 'Centrifugal pump@1',
      STATUS: 'provisioned',
      COMMISSIONED: '2012-05-01',
      CATEGORY: 'pump',
    });
    // The registry keeps the handle identifier announced.
    const withHandle = await waitFor(
      async () => {
        const r = await as(subToken).get(`/v1/devices/${id}`);
        return r.body.handle ? r.body : undefined;
      },
      10_000,
      'the registry to store the handle',
    );
    expect(withHandle.handle.toLowerCase()).toBe(handle.toLowerCase());

    // Its group reads it (REST and gRPC); a sibling and the park get 404 / NOT_FOUND, as for a missing device.
    expect((await as(groupToken).get(`/v1/devices/${id}`)).body).toMatchObject({
      id,
      serial: 'SPW-2012-0042',
      profile: { ratedPowerKw: 55 },
    });
    const sibling = await as(siblingToken).get(`/v1/devices/${id}`);
    const missing = await as(siblingToken).get(`/v1/devices/00000000-0000-4000-8000-000000000000`);
    expect(sibling.status).toBe(404);
    expect(sibling.headers['content-type']).toContain('application/problem+json');
    const shape = (b: Record<string, unknown>) => ({ ...b, detail: undefined, instance: undefined, requestId: undefined });
    expect(shape(sibling.body)).toEqual(shape(missing.body));
    expect((await as(groupToken).get('/v1/devices')).body.items.map((d: { id: string }) => d.id)).toContain(id);
    expect((await as(siblingToken).get('/v1/devices')).body.items).toEqual([]);
    const grpc = deviceRegistryGrpcClient(registry.grpcUrl);
    try {
      expect(await grpc.getDevice({ id }, groupToken)).toMatchObject({
        id,
        handle: withHandle.handle,
        profile: { category: 'pump', efficiencyGrade: 3 },
      });
      await expect(grpc.getDevice({ id }, siblingToken)).rejects.toMatchObject({
        code: GrpcStatus.NOT_FOUND,
      } satisfies Partial<ServiceError>);
      // ListDevices takes a fleet query, within the tenant asked for.
      const listed = (query: string) =>
        grpc.listDevices({ limit: 10, cursor: '', tenantId: sub.id, query }, groupToken) as Promise<{ devices: { id: string }[] }>;
      expect((await listed("tags.line = 'L1' AND profile.category = 'pump'")).devices.map((d) => d.id)).toContain(id);
      expect((await listed("tags.line = 'L2'")).devices.map((d) => d.id)).not.toContain(id);
      await expect(listed("tags.line = 'L1")).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT } satisfies Partial<ServiceError>);
      expect(
        JSON.parse((await grpc.getThingModel({ id: pumpModel, version: 0 }, subToken)).definitionJson).properties.temperature.unit,
      ).toBe('Cel');
    } finally {
      grpc.close();
    }

    // Decommissioned: the identifier stays resolvable and says so.
    expect((await as(subToken).post(`/v1/devices/${id}/lifecycle`, { status: 'active' })).body.status).toBe('active');
    const decommissioned = await as(subToken).post(`/v1/devices/${id}/lifecycle`, { status: 'decommissioned' });
    expect(decommissioned.body).toMatchObject({ status: 'decommissioned', version: 3 });
    await waitFor(
      async () => {
        const r = await request(node.httpUrl).get(`/api/handles/${handle}?auth=true`);
        return (r.body.values as { type: string; data: { value: unknown } }[] | undefined)?.find((v) => v.type === 'STATUS')?.data.value ===
          'decommissioned'
          ? true
          : undefined;
      },
      10_000,
      'the identifier to say decommissioned',
    );
    const back = await as(subToken).post(`/v1/devices/${id}/lifecycle`, { status: 'active' });
    expect(back.status).toBe(409);
    expect(back.body.code).toBe('LIFECYCLE_TRANSITION_NOT_ALLOWED');
  });

  it("a park sees its member's devices only in counts", async () => {
    // A platform-published model any tenant may use.
    const platformModel = await as(op).post('/v1/models', { ...PUMP_MODEL, name: 'Reference motor' });
    expect(platformModel.status).toBe(201);
    await as(op).post(`/v1/models/${platformModel.body.id}/versions/1/publish`, {});
    const res = await register(memberToken, {
      name: 'Motor 1',
      manufacturer: 'Wolong',
      serial: 'WL-1',
      model: { id: platformModel.body.id, version: 1 },
      profile: { category: 'motor', efficiencyGrade: 2 },
    });
    expect(res.status).toBe(201);
    expect((await as(parkToken).get(`/v1/devices/${res.body.id}`)).status).toBe(404);
    expect((await as(parkToken).get('/v1/devices')).body.items).toEqual([]);
    const counts = await as(parkToken).get('/v1/devices/counts?groupBy=category');
    expect(counts.status).toBe(200);
    expect(counts.body).toEqual({ by: 'category', total: 1, groups: [{ value: 'motor', count: 1 }] });
    // The member itself reads it; the group counts nothing of the park.
    expect((await as(memberToken).get(`/v1/devices/${res.body.id}`)).status).toBe(200);
    expect((await as(groupToken).get('/v1/devices/counts?groupBy=tenant')).body.groups).not.toContainEqual(
      expect.objectContaining({ value: member.id }),
    );
    // Unless the member grants its park devices:read (at tenancy): then the park reads that device.
    const granter = (await clientToken(tenancy, op, member.id, ['grants:write'])).token;
    const grant = await request(tenancy.httpUrl)
      .post(`/v1/tenants/${member.id}/grants`)
      .auth(granter, { type: 'bearer' })
      .send({ granteeTenantId: park.id, dataScope: 'devices:read' });
    expect(grant.status).toBe(201);
    await waitFor(
      async () => ((await as(parkToken).get(`/v1/devices/${res.body.id}`)).status === 200 ? true : undefined),
      5_000,
      'the grant to let the park read',
    );
    expect((await as(parkToken).get(`/v1/devices/${res.body.id}/twin`)).status).toBe(200);
    // Reading is all it grants.
    expect((await as(parkToken).post(`/v1/devices/${res.body.id}/lifecycle`, { status: 'active' })).status).toBe(404);
    // A park member cannot change the platform's model.
    expect(
      (await as(memberToken).put(`/v1/models/${platformModel.body.id}/versions/2`, { definition: PUMP_MODEL.definition })).status,
    ).toBe(403);
  });

  it('refuses a duplicate serial, a draft model, an unknown unit, a changed published version and a full quota', async () => {
    const small = await createTenant(tenancy, groupToken, {
      kind: 'subsidiary',
      parentId: group.id,
      quotas: { maxDevices: 1, maxTelemetryPointsPerSecond: 10 },
    });
    const smallToken = (await clientToken(tenancy, groupToken, small.id, SCOPES)).token;
    const pump = (serial: string) => ({ name: `Pump ${serial}`, manufacturer: 'KSB', serial, model: { id: pumpModel } });
    expect((await register(smallToken, pump('K-1'))).status).toBe(201);
    const dup = await register(smallToken, pump('K-1'));
    expect([dup.status, dup.body.code]).toEqual([409, 'SERIAL_TAKEN']);
    const full = await register(smallToken, pump('K-2'));
    expect([full.status, full.body.code]).toEqual([409, 'DEVICE_QUOTA_EXCEEDED']);
    // The group registers for its subsidiary, and sees the same quota.
    expect((await as(groupToken).post('/v1/devices', { ...pump('K-3'), tenantId: small.id })).body.code).toBe('DEVICE_QUOTA_EXCEEDED');

    const published = await as(groupToken).put(`/v1/models/${pumpModel}/versions/1`, { definition: PUMP_MODEL.definition });
    expect([published.status, published.body.code]).toEqual([409, 'MODEL_VERSION_PUBLISHED']);
    const draft = await as(groupToken).put(`/v1/models/${pumpModel}/versions/2`, { definition: PUMP_MODEL.definition });
    expect(draft.body).toMatchObject({ version: 2, status: 'draft' });
    const onDraft = await as(groupToken).post('/v1/devices', { ...pump('K-4'), model: { id: pumpModel, version: 2 } });
    expect([onDraft.status, onDraft.body.code]).toEqual([422, 'MODEL_VERSION_NOT_PUBLISHED']);

    const badUnit = await as(groupToken).post('/v1/models', {
      name: 'Bad',
      definition: {
        properties: {
          t: { type: 'float', unit: 'degrees', min: 5, max: 1, access: 'read-only' },
          s: { type: 'bool', unit: 'kW', access: 'read-only' },
        },
      },
    });
    expect(badUnit.status).toBe(400);
    expect(badUnit.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(
      ['definition.properties.s.unit', 'definition.properties.t.min', 'definition.properties.t.unit'].sort(),
    );
  });

  it('imports a W3C Thing Description and exports the model back as one', async () => {
    const td = {
      '@context': 'https://www.w3.org/2022/wot/td/v1.1',
      title: 'Boiler',
      securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
      security: 'nosec_sc',
      properties: { pressure: { type: 'number', unit: 'bar', minimum: 0, maximum: 25, readOnly: true, forms: [{ href: 'http://b/p' }] } },
      actions: { purge: { input: { type: 'integer', minimum: 1 }, forms: [{ href: 'http://b/purge' }] } },
    };
    const imported = await as(subToken).post('/v1/models/import-td', { thingDescription: td });
    expect(imported.status).toBe(201);
    expect(imported.body.notes).toEqual(expect.arrayContaining(['securityDefinitions is not kept']));
    const version = await as(subToken).get(`/v1/models/${imported.body.id}/versions/1`);
    expect(version.body.definition.properties.pressure).toEqual({ type: 'double', unit: 'bar', min: 0, max: 25, access: 'read-only' });
    const exported = await as(subToken).get(`/v1/models/${imported.body.id}/versions/1/td`);
    expect(exported.headers['content-type']).toContain('application/td+json');
    expect(exported.body).toMatchObject({ title: 'Boiler', properties: { pressure: { type: 'number', unit: 'bar', readOnly: true } } });
    // A device of the imported model refuses a reported value out of the TD's range, naming the path.
    await as(subToken).post(`/v1/models/${imported.body.id}/versions/1/publish`, {});
    const boiler = await register(subToken, { name: 'Boiler 1', manufacturer: 'Taishan', serial: 'TS-1', model: { id: imported.body.id } });
    expect(boiler.status).toBe(201);
    const outOfRange = await as(subToken).patch(`/v1/devices/${boiler.body.id}/twin/reported`, { pressure: 30 });
    expect([outOfRange.status, outOfRange.body.errors]).toEqual([400, [{ field: 'reported.pressure', message: 'must be <= 25' }]]);
    expect((await as(subToken).patch(`/v1/devices/${boiler.body.id}/twin/reported`, { pressure: 12.5 })).status).toBe(200);
    const refused = await as(subToken).post('/v1/models/import-td', { thingDescription: { ...td, properties: { x: { forms: [] } } } });
    expect([refused.status, refused.body.code]).toEqual([422, 'TD_NOT_IMPORTABLE']);
    expect(refused.body.details.problems).toEqual([
      { field: 'thingDescription.properties.x', message: expect.stringContaining('no type') },
    ]);
    // The sibling cannot see the subsidiary's model.
    expect((await as(siblingToken).get(`/v1/models/${imported.body.id}`)).status).toBe(404);
  });
});
