import { status as GrpcStatus } from '@grpc/grpc-js';
import request from 'supertest';
import { TenancyV1 } from '@iip/contracts';
import { TestEnvironment, createTestEnvironment } from '@iip/platform-testing';
import { RunningTenancy } from '../src/tenancy-app';
import { CreatedTenant, clientToken, createTenant, operatorToken, startTestTenancy, tenancyGrpcClient } from './support';

const ALL = ['tenants:read', 'tenants:write', 'clients:read', 'clients:write', 'grants:write', 'access:check'];

describe('tenant visibility across the tree (REST and gRPC)', () => {
  let env: TestEnvironment;
  let app: RunningTenancy;
  let grpc: ReturnType<typeof tenancyGrpcClient>;
  let group: CreatedTenant, subA: CreatedTenant, subB: CreatedTenant, subA1: CreatedTenant;
  let park: CreatedTenant, member: CreatedTenant, otherGroup: CreatedTenant;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnvironment('visibility');
    app = await startTestTenancy(env);
    grpc = tenancyGrpcClient(app.grpcUrl);
    const op = await operatorToken(app);
    group = await createTenant(app, op, { kind: 'group', name: 'Group' });
    otherGroup = await createTenant(app, op, { kind: 'group', name: 'Other group' });
    park = await createTenant(app, op, { kind: 'park', name: 'Park' });
    tokens.group = (await clientToken(app, op, group.id, ALL)).token;
    tokens.park = (await clientToken(app, op, park.id, ALL)).token;
    tokens.otherGroup = (await clientToken(app, op, otherGroup.id, ALL)).token;
    subA = await createTenant(app, tokens.group, { kind: 'subsidiary', name: 'A' });
    subB = await createTenant(app, tokens.group, { kind: 'subsidiary', name: 'B' });
    tokens.subA = (await clientToken(app, tokens.group, subA.id, ALL)).token;
    subA1 = await createTenant(app, tokens.subA, { kind: 'subsidiary', name: 'A1' });
    member = await createTenant(app, tokens.park, {
      kind: 'park-member',
      name: 'Member',
      quotas: { maxDevices: 7, maxTelemetryPointsPerSecond: 70 },
    });
    // A park admits members but holds none of their credentials: the operator issues them.
    tokens.member = (await clientToken(app, op, member.id, ALL)).token;
  });

  afterAll(async () => {
    grpc?.close();
    await app?.close();
    await env?.cleanup();
  });

  const get = (who: string, id: string) => request(app.httpUrl).get(`/v1/tenants/${id}`).auth(tokens[who], { type: 'bearer' });

  it('a group reads its subsidiary and the subsidiary below it', async () => {
    for (const target of [subA, subA1]) {
      const res = await get('group', target.id);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: target.id, view: 'full' });
    }
  });

  it('a group lists its whole subtree', async () => {
    const res = await request(app.httpUrl).get(`/v1/tenants/${group.id}/descendants?limit=2`).auth(tokens.group, { type: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    const next = await request(app.httpUrl)
      .get(`/v1/tenants/${group.id}/descendants?limit=2&cursor=${res.body.nextCursor}`)
      .auth(tokens.group, { type: 'bearer' });
    const ids = [...res.body.items, ...next.body.items].map((t: { id: string }) => t.id).sort();
    expect(ids).toEqual([subA.id, subB.id, subA1.id].sort());
    expect(next.body.nextCursor).toBeNull();
  });

  it('a subsidiary reads itself and its own subtree', async () => {
    expect((await get('subA', subA.id)).status).toBe(200);
    expect((await get('subA', subA1.id)).status).toBe(200);
  });

  it.each([
    ['its sibling', 'subA', () => subB.id],
    ['its parent', 'subA', () => group.id],
    ['an unrelated group', 'group', () => otherGroup.id],
    ["another group's subsidiary", 'otherGroup', () => subA.id],
    ['its park', 'member', () => park.id],
  ])('a tenant cannot read %s: 404, the same as a tenant that does not exist', async (_, who, target) => {
    const res = await get(who, target());
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('TENANT_NOT_FOUND');
    const missing = await get(who, '00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(missing.body).sort());
  });

  it('a park sees a member profile and the quotas it sets, but not its clients or subtree', async () => {
    const res = await get('park', member.id);
    expect(res.status).toBe(200);
    expect(res.body.view).toBe('member');
    expect(res.body.name).toBe('Member');
    expect(res.body.quotas).toEqual({ maxDevices: 7, maxTelemetryPointsPerSecond: 70 });
    expect(res.body).not.toHaveProperty('path');
    const clients = await request(app.httpUrl).get(`/v1/tenants/${member.id}/clients`).auth(tokens.park, { type: 'bearer' });
    expect(clients.status).toBe(404);
    const subtree = await request(app.httpUrl).get(`/v1/tenants/${member.id}/descendants`).auth(tokens.park, { type: 'bearer' });
    expect(subtree.status).toBe(404);
    // The member itself sees its own record in full.
    expect((await get('member', member.id)).body).toMatchObject({ view: 'full', quotas: { maxDevices: 7 } });
  });

  it("a park reads a member's data only after the member grants it", async () => {
    const ask = () =>
      grpc.checkAccess(
        { actorTenantId: park.id, targetTenantId: member.id, level: TenancyV1.AccessLevel.ACCESS_LEVEL_DATA, dataScope: 'telemetry:read' },
        tokens.park,
      );
    expect(await ask()).toEqual({ allowed: false, relation: 'park' });
    const profile = await grpc.checkAccess(
      { actorTenantId: park.id, targetTenantId: member.id, level: TenancyV1.AccessLevel.ACCESS_LEVEL_PROFILE, dataScope: '' },
      tokens.park,
    );
    expect(profile.allowed).toBe(true);

    const grant = await request(app.httpUrl)
      .post(`/v1/tenants/${member.id}/grants`)
      .auth(tokens.member, { type: 'bearer' })
      .send({ granteeTenantId: park.id, dataScope: 'telemetry:read' });
    expect(grant.status).toBe(201);
    expect(await ask()).toEqual({ allowed: true, relation: 'granted' });
    // The grant covers that kind of data only.
    const other = await grpc.checkAccess(
      { actorTenantId: park.id, targetTenantId: member.id, level: TenancyV1.AccessLevel.ACCESS_LEVEL_DATA, dataScope: 'devices:read' },
      tokens.park,
    );
    expect(other.allowed).toBe(false);
  });

  it("a park cannot grant itself access to a member's data", async () => {
    const res = await request(app.httpUrl)
      .post(`/v1/tenants/${member.id}/grants`)
      .auth(tokens.park, { type: 'bearer' })
      .send({ granteeTenantId: park.id, dataScope: 'devices:read' });
    expect(res.status).toBe(404);
  });

  it('gRPC GetTenant answers what REST answers, and NOT_FOUND where REST says 404', async () => {
    const viaGrpc = await grpc.getTenant({ tenantId: subA1.id }, tokens.group);
    const viaRest = (await get('group', subA1.id)).body;
    expect(viaGrpc).toMatchObject({
      id: viaRest.id,
      name: viaRest.name,
      creditCode: viaRest.creditCode,
      path: viaRest.path,
      version: viaRest.version,
    });
    await expect(grpc.getTenant({ tenantId: subB.id }, tokens.subA)).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });

  it('gRPC calls need a valid token and a well-formed request', async () => {
    await expect(grpc.getTenant({ tenantId: subA.id })).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
    await expect(grpc.getTenant({ tenantId: subA.id }, 'not-a-token')).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
    await expect(grpc.getTenant({ tenantId: 'nope' }, tokens.group)).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
    const readOnly = (await clientToken(app, tokens.group, group.id, ['tenants:read'])).token;
    await expect(
      grpc.checkAccess(
        { actorTenantId: group.id, targetTenantId: subA.id, level: TenancyV1.AccessLevel.ACCESS_LEVEL_MANAGE, dataScope: '' },
        readOnly,
      ),
    ).rejects.toMatchObject({ code: GrpcStatus.PERMISSION_DENIED });
  });

  it('a subsidiary cannot suspend itself or raise its own quotas; its group can', async () => {
    const self = await request(app.httpUrl)
      .post(`/v1/tenants/${subA.id}/suspend`)
      .auth(tokens.subA, { type: 'bearer' })
      .send({ reason: 'x' });
    expect(self.status).toBe(403);
    const current = (await get('subA', subA.id)).body;
    const quotas = await request(app.httpUrl)
      .patch(`/v1/tenants/${subA.id}`)
      .auth(tokens.subA, { type: 'bearer' })
      .send({ version: current.version, quotas: { maxDevices: 999999, maxTelemetryPointsPerSecond: 1 } });
    expect(quotas.status).toBe(403);
    const byGroup = await request(app.httpUrl)
      .patch(`/v1/tenants/${subA.id}`)
      .auth(tokens.group, { type: 'bearer' })
      .send({ version: current.version, quotas: { maxDevices: 5, maxTelemetryPointsPerSecond: 50 } });
    expect(byGroup.status).toBe(200);
    expect(byGroup.body.quotas).toEqual({ maxDevices: 5, maxTelemetryPointsPerSecond: 50 });
    const stale = await request(app.httpUrl)
      .patch(`/v1/tenants/${subA.id}`)
      .auth(tokens.group, { type: 'bearer' })
      .send({ version: current.version, name: 'again' });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('VERSION_CONFLICT');
  });

  it('suspending a tenant stops its clients (and those below it) from getting tokens', async () => {
    const sub = await createTenant(app, tokens.group, { kind: 'subsidiary' });
    const below = await createTenant(app, tokens.group, { kind: 'subsidiary', parentId: sub.id });
    const c = await clientToken(app, tokens.group, below.id, ['tenants:read']);
    const suspend = await request(app.httpUrl)
      .post(`/v1/tenants/${sub.id}/suspend`)
      .auth(tokens.group, { type: 'bearer' })
      .send({ reason: 'contract ended' });
    expect(suspend.status).toBe(200);
    expect(suspend.body.status).toBe('suspended');
    const token = await request(app.httpUrl)
      .post('/oauth/token')
      .auth(c.clientId, c.secret)
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(400);
    expect(token.body.error).toBe('unauthorized_client');
  });
});
