import request from 'supertest';
import { TenancyV1 } from '@iip/contracts';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { RunningTenancy } from '../src/tenancy-app';
import { CreatedTenant, clientToken, createTenant, makeCreditCode, operatorToken, startTestTenancy, tenancyGrpcClient } from './support';

const ALL = ['tenants:read', 'tenants:write', 'clients:read', 'clients:write', 'grants:write', 'access:check'];
const NO_SUCH_TENANT = '7d0c2f4e-9b1a-4c3d-8e5f-0a1b2c3d4e5f';

/**
 * What an unrelated caller can learn: nothing about which tenant ids or credit codes exist, and
 * the same answer from REST reads and from CheckAccess.
 */
describe('tenancy answers do not reveal what exists, and one rule decides visibility', () => {
  let env: TestEnvironment;
  let app: RunningTenancy;
  let grpc: ReturnType<typeof tenancyGrpcClient>;
  let group: CreatedTenant, s11: CreatedTenant, s12: CreatedTenant, s11a: CreatedTenant;
  let otherGroup: CreatedTenant, otherSub: CreatedTenant, park: CreatedTenant, member: CreatedTenant;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnvironment('oracles');
    app = await startTestTenancy(env);
    grpc = tenancyGrpcClient(app.grpcUrl);
    tokens.op = await operatorToken(app);
    group = await createTenant(app, tokens.op, { kind: 'group', name: 'Group' });
    otherGroup = await createTenant(app, tokens.op, { kind: 'group', name: 'Other group' });
    park = await createTenant(app, tokens.op, { kind: 'park', name: 'Park' });
    tokens.group = (await clientToken(app, tokens.op, group.id, ALL)).token;
    tokens.otherGroup = (await clientToken(app, tokens.op, otherGroup.id, ALL)).token;
    tokens.park = (await clientToken(app, tokens.op, park.id, ALL)).token;
    s11 = await createTenant(app, tokens.group, { kind: 'subsidiary', name: 'S11' });
    s12 = await createTenant(app, tokens.group, { kind: 'subsidiary', name: 'S12' });
    s11a = await createTenant(app, tokens.group, { kind: 'subsidiary', name: 'S11a', parentId: s11.id });
    otherSub = await createTenant(app, tokens.otherGroup, { kind: 'subsidiary', name: 'Secret subsidiary' });
    tokens.s11 = (await clientToken(app, tokens.group, s11.id, ALL)).token;
    tokens.s12 = (await clientToken(app, tokens.group, s12.id, ALL)).token;
    member = await createTenant(app, tokens.park, {
      kind: 'park-member',
      name: 'Member',
      quotas: { maxDevices: 7, maxTelemetryPointsPerSecond: 70 },
    });
  });

  afterAll(async () => {
    grpc?.close();
    await app?.close();
    await env?.cleanup();
  });

  const bearer = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
  const grant = (who: string, grantorId: string, granteeTenantId: string, dataScope = 'telemetry:read') =>
    request(app.httpUrl).post(`/v1/tenants/${grantorId}/grants`).set(bearer(who)).send({ granteeTenantId, dataScope });
  const withoutRequestId = (body: Record<string, unknown>) => {
    const { requestId: _ignored, ...rest } = body;
    return rest;
  };

  describe('grants', () => {
    it('answer a grant to an unrelated tenant exactly as one to an id no tenant has', async () => {
      const toExisting = await grant('s11', s11.id, otherSub.id);
      const toMissing = await grant('s11', s11.id, NO_SUCH_TENANT);
      expect([toExisting.status, toMissing.status]).toEqual([201, 201]);
      expect(toMissing.body).toEqual({
        grantorTenantId: s11.id,
        granteeTenantId: NO_SUCH_TENANT,
        dataScope: 'telemetry:read',
        createdAt: expect.any(String),
      });
      expect(Object.keys(toExisting.body).sort()).toEqual(Object.keys(toMissing.body).sort());
      const listed = await request(app.httpUrl).get(`/v1/tenants/${s11.id}/grants`).set(bearer('s11'));
      expect(listed.body.items.map((g: { granteeTenantId: string }) => g.granteeTenantId)).toEqual(
        expect.arrayContaining([otherSub.id, NO_SUCH_TENANT]),
      );
    });

    it('a grant to an id no tenant has lets nobody see anything', async () => {
      const decision = await grpc.checkAccess(
        {
          actorTenantId: NO_SUCH_TENANT,
          targetTenantId: s11.id,
          level: TenancyV1.AccessLevel.ACCESS_LEVEL_DATA,
          dataScope: 'telemetry:read',
        },
        tokens.op,
      );
      expect(decision.allowed).toBe(false);
    });

    it('a grant to a well-formed id still answers 404 for a grantor the caller does not manage', async () => {
      const res = await grant('s12', s11.id, NO_SUCH_TENANT);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('TENANT_NOT_FOUND');
    });
  });

  describe('credit codes', () => {
    const create = (who: string, creditCode: string, parentId?: string) =>
      request(app.httpUrl)
        .post('/v1/tenants')
        .set(bearer(who))
        .send({ kind: 'subsidiary', name: 'Probe', creditCode, ...(parentId ? { parentId } : {}) });

    it('a used credit code gets one neutral 409, whether its tenant is in the caller’s tree or not', async () => {
      const outside = await create('group', otherSub.creditCode);
      const inside = await create('group', s11a.creditCode);
      for (const res of [outside, inside]) {
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('CREDIT_CODE_UNAVAILABLE');
        expect(res.body.detail).not.toMatch(/exist|already|tenant/i);
        expect(JSON.stringify(res.body)).not.toContain(otherSub.id);
        expect(JSON.stringify(res.body)).not.toContain(s11a.id);
      }
      // The credit code is the caller's own input; everything else is the same word for word.
      const neutral = (body: Record<string, unknown>) =>
        JSON.parse(JSON.stringify(withoutRequestId(body)).replaceAll(otherSub.creditCode, 'X').replaceAll(s11a.creditCode, 'X'));
      expect(neutral(inside.body)).toEqual(neutral(outside.body));
    });

    it('bulk onboarding rows say the same: unavailable, whoever holds the code', async () => {
      const fresh = makeCreditCode();
      const ndjson = [
        JSON.stringify({ kind: 'subsidiary', name: 'Outside tree', creditCode: otherSub.creditCode }),
        JSON.stringify({ kind: 'subsidiary', name: 'Elsewhere in tree', creditCode: s11a.creditCode }),
        JSON.stringify({ kind: 'subsidiary', name: 'Already here', creditCode: s12.creditCode }),
        JSON.stringify({ kind: 'subsidiary', name: 'New', creditCode: fresh }),
      ].join('\n');
      const job = await request(app.httpUrl)
        .post(`/v1/tenants/${group.id}/onboarding-jobs`)
        .set(bearer('group'))
        .set('Content-Type', 'application/x-ndjson')
        .send(ndjson);
      expect(job.status).toBe(202);
      await waitFor(
        async () => {
          const res = await request(app.httpUrl).get(`/v1/onboarding-jobs/${job.body.id}`).set(bearer('group'));
          return res.body.status === 'completed' ? true : undefined;
        },
        30_000,
        'the job to complete',
      );
      const results = await request(app.httpUrl).get(`/v1/onboarding-jobs/${job.body.id}/results`).set(bearer('group'));
      const [outside, inside, here, created] = results.body.items;
      expect(outside.status).toBe('failed');
      expect(outside.error.code).toBe('CREDIT_CODE_UNAVAILABLE');
      expect(outside.error.message).not.toMatch(/exist|already|elsewhere|tenant/i);
      expect({ ...inside, line: 0, creditCode: 'X' }).toEqual({ ...outside, line: 0, creditCode: 'X' });
      // Idempotency stays: a row for a tenant already under this parent names that tenant.
      expect(here).toMatchObject({ status: 'existing', tenantId: s12.id });
      expect(created.status).toBe('created');
    });
  });

  describe('one rule for GET /v1/tenants/{id} and CheckAccess', () => {
    const read = (who: string, id: string) => request(app.httpUrl).get(`/v1/tenants/${id}`).set(bearer(who));
    const mayProfile = (actor: CreatedTenant, target: CreatedTenant, who: string) =>
      grpc.checkAccess(
        { actorTenantId: actor.id, targetTenantId: target.id, level: TenancyV1.AccessLevel.ACCESS_LEVEL_PROFILE, dataScope: '' },
        tokens[who],
      );

    it('a sibling sees a profile exactly while it holds a grant, through REST, gRPC and CheckAccess alike', async () => {
      const before = await read('s12', s11.id);
      expect(before.status).toBe(404);
      expect((await mayProfile(s12, s11, 's12')).allowed).toBe(false);

      expect((await grant('s11', s11.id, s12.id, 'devices:read')).status).toBe(201);
      const granted = await read('s12', s11.id);
      expect(granted.status).toBe(200);
      expect(granted.body).toMatchObject({ view: 'profile', id: s11.id, name: 'S11' });
      // A profile: nothing of what only those above it administer.
      for (const field of ['quotas', 'path', 'version', 'suspendedReason']) expect(granted.body).not.toHaveProperty(field);
      expect(await mayProfile(s12, s11, 's12')).toEqual({ allowed: true, relation: 'granted' });
      await expect(grpc.getTenant({ tenantId: s11.id }, tokens.s12)).resolves.toMatchObject({ id: s11.id, name: 'S11', version: 0 });
      // Seeing the profile is not managing: the grantor's clients and subtree stay hidden.
      expect((await request(app.httpUrl).get(`/v1/tenants/${s11.id}/clients`).set(bearer('s12'))).status).toBe(404);
      expect((await request(app.httpUrl).get(`/v1/tenants/${s11.id}/descendants`).set(bearer('s12'))).status).toBe(404);

      const revoke = await request(app.httpUrl).delete(`/v1/tenants/${s11.id}/grants/${s12.id}/devices:read`).set(bearer('s11'));
      expect(revoke.status).toBe(204);
      expect((await read('s12', s11.id)).status).toBe(404);
      expect((await mayProfile(s12, s11, 's12')).allowed).toBe(false);
    });
  });

  describe("a park and its members' quotas", () => {
    it('reads the quotas it may set, and the version a change must carry', async () => {
      const res = await request(app.httpUrl).get(`/v1/tenants/${member.id}`).set(bearer('park'));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: member.id, quotas: { maxDevices: 7, maxTelemetryPointsPerSecond: 70 }, version: 1 });
      expect(res.body).not.toHaveProperty('path');

      const patch = await request(app.httpUrl)
        .patch(`/v1/tenants/${member.id}`)
        .set(bearer('park'))
        .send({ version: res.body.version, quotas: { maxDevices: 8, maxTelemetryPointsPerSecond: 80 } });
      expect(patch.status).toBe(200);
      expect(patch.body.quotas).toEqual({ maxDevices: 8, maxTelemetryPointsPerSecond: 80 });
      const viaGrpc = await grpc.getTenant({ tenantId: member.id }, tokens.park);
      expect(viaGrpc.quotas).toEqual({ maxDevices: 8, maxTelemetryPointsPerSecond: 80 });
      expect(viaGrpc.version).toBe(2);
    });
  });
});
