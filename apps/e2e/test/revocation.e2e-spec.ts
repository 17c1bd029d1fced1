import { status as GrpcStatus } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy, tokenFor } from '@iip/tenancy-testing';
import { identifierGrpcClient, startTestIdentifier } from '@iip/identifier-testing';

const SCOPES = ['tenants:read', 'tenants:write', 'clients:write', 'grants:write', 'identifiers:write'];
const POLL_MS = 25;

type Probe = () => Promise<request.Response>;

/**
 * Revoking a client or suspending a tenant takes effect at every instance of every service
 * within a second — tenancy and two identifier instances here — and an instance started later
 * knows it too. The clock starts when the DELETE / suspend request has been answered.
 */
describe('access ends with its grant, everywhere, within a second', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let nodes: ServiceRuntime[];
  let op: string;
  let partner: CreatedTenant;
  const latencies: Record<string, number> = {};

  beforeAll(async () => {
    env = await createTestEnvironment('revocation');
    tenancy = await startTestTenancy(env);
    nodes = [
      await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' }),
      await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' }),
    ];
    op = await operatorToken(tenancy);
    partner = await createTenant(tenancy, op, { kind: 'group' });
  });

  afterAll(async () => {
    if (Object.keys(latencies).length > 0) process.stdout.write(`revocation latencies (ms): ${JSON.stringify(latencies)}\n`);
    for (const node of nodes ?? []) await node.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const value = () => [
    { index: 1, type: 'URL', data: { format: 'string', value: `https://example.com/${randomBytes(3).toString('hex')}` } },
  ];
  let serial = 0;
  const handleUnder = (prefix: string) => `${prefix}/REVOKE-${++serial}`;

  const prefixOf = (tenant: CreatedTenant, token: string) =>
    waitFor(
      async () => {
        const res = await request(nodes[0].httpUrl).get('/v1/prefixes').set(bearer(token));
        return (res.body.items as { prefix: string; tenantId: string }[] | undefined)?.find((p) => p.tenantId === tenant.id)?.prefix;
      },
      30_000,
      `the prefix of ${tenant.id}`,
    );

  /** What a token may do at each instance; each probe succeeds while the token is honoured. */
  const probes = (token: string, tenant: CreatedTenant, prefix: string, node = nodes) => {
    const all: Record<string, Probe> = {
      'tenancy GET tenant': () => request(tenancy.httpUrl).get(`/v1/tenants/${tenant.id}`).set(bearer(token)),
      'tenancy PATCH self': async () => {
        const current = await request(tenancy.httpUrl).get(`/v1/tenants/${tenant.id}`).set(bearer(op));
        return request(tenancy.httpUrl)
          .patch(`/v1/tenants/${tenant.id}`)
          .set(bearer(token))
          .send({ version: current.body.version, name: `Renamed ${randomBytes(3).toString('hex')}` });
      },
      'tenancy POST clients': () =>
        request(tenancy.httpUrl)
          .post(`/v1/tenants/${tenant.id}/clients`)
          .set(bearer(token))
          .send({ name: 'minted by a token that should be dead', scopes: ['tenants:read'] }),
      'tenancy POST grant': () =>
        request(tenancy.httpUrl)
          .post(`/v1/tenants/${tenant.id}/grants`)
          .set(bearer(token))
          .send({ granteeTenantId: partner.id, dataScope: `telemetry:read-${++serial}` }),
    };
    node.forEach((n, i) => {
      all[`identifier#${i + 1} PUT handle`] = () =>
        request(n.httpUrl)
          .put(`/api/handles/${handleUnder(prefix)}`)
          .set(bearer(token))
          .send({ values: value() });
      all[`identifier#${i + 1} POST batch`] = () =>
        request(n.httpUrl)
          .post('/v1/identifiers/batch')
          .set(bearer(token))
          .send({ items: [{ handle: handleUnder(prefix), values: value() }] });
    });
    return all;
  };

  async function expectHonoured(named: Record<string, Probe>): Promise<void> {
    for (const [name, probe] of Object.entries(named)) {
      const res = await probe();
      if (res.status !== 200 && res.status !== 201) throw new Error(`${name} answered ${res.status} before any revocation: ${res.text}`);
    }
  }

  /** Polls every probe (in parallel, every 25 ms) until it answers 401; returns how long each took from `since`. */
  async function refusedWithin(named: Record<string, Probe>, since: number, label: string): Promise<Record<string, number>> {
    const elapsed: Record<string, number> = {};
    await Promise.all(
      Object.entries(named).map(async ([name, probe]) => {
        for (;;) {
          const res = await probe();
          const ms = Date.now() - since;
          if (res.status === 401) {
            elapsed[name] = ms;
            // The Handle API answers in its own JSON; everything else in problem+json.
            if (name.endsWith('PUT handle')) expect(res.body.responseCode).toBe(402);
            else expect(res.body).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
            return;
          }
          if (ms > 5_000) throw new Error(`${label}: ${name} still answered ${res.status} after ${ms} ms`);
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      }),
    );
    for (const [name, ms] of Object.entries(elapsed)) latencies[`${label}: ${name}`] = ms;
    return elapsed;
  }

  const slowest = (elapsed: Record<string, number>) => Math.max(...Object.values(elapsed));

  let revokedToken: string;
  let suspendedGroupToken: string;
  let renewedGroupToken: string;
  let revokedTenant: CreatedTenant;
  let suspendedGroup: CreatedTenant;
  let prefixes: Record<string, string> = {};

  it("refuses a revoked client's token at tenancy and at both identifier instances within a second", async () => {
    revokedTenant = await createTenant(tenancy, op, { kind: 'group' });
    const client = await clientToken(tenancy, op, revokedTenant.id, SCOPES);
    revokedToken = client.token;
    const prefix = await prefixOf(revokedTenant, revokedToken);
    prefixes.revoked = prefix;
    const named = probes(revokedToken, revokedTenant, prefix);
    await expectHonoured(named);

    const revoke = await request(tenancy.httpUrl).delete(`/v1/tenants/${revokedTenant.id}/clients/${client.clientId}`).set(bearer(op));
    expect(revoke.status).toBe(204);
    const elapsed = await refusedWithin(named, Date.now(), 'revoked client');
    expect(slowest(elapsed)).toBeLessThan(1_000);

    // gRPC says UNAUTHENTICATED for the same token.
    const grpc = identifierGrpcClient(nodes[1].grpcUrl);
    try {
      await expect(
        grpc.register({ handle: handleUnder(prefix), values: [], template: undefined, idempotencyKey: '' }, revokedToken),
      ).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
    } finally {
      grpc.close();
    }
  });

  it("refuses a suspended tenant's and its subsidiary's old tokens everywhere within a second, and not after reactivation only for new ones", async () => {
    suspendedGroup = await createTenant(tenancy, op, { kind: 'group' });
    const groupClient = await clientToken(tenancy, op, suspendedGroup.id, SCOPES);
    suspendedGroupToken = groupClient.token;
    const sub = await createTenant(tenancy, suspendedGroupToken, { kind: 'subsidiary' });
    const subClient = await clientToken(tenancy, suspendedGroupToken, sub.id, SCOPES);
    prefixes = { ...prefixes, group: await prefixOf(suspendedGroup, suspendedGroupToken), sub: await prefixOf(sub, subClient.token) };
    const ofGroup = probes(suspendedGroupToken, suspendedGroup, prefixes.group);
    const ofSub = probes(subClient.token, sub, prefixes.sub);
    await expectHonoured(ofGroup);
    await expectHonoured(ofSub);

    const suspend = await request(tenancy.httpUrl)
      .post(`/v1/tenants/${suspendedGroup.id}/suspend`)
      .set(bearer(op))
      .send({ reason: 'unpaid invoices' });
    expect(suspend.status).toBe(200);
    const suspendedAt = Date.now();
    const [byGroup, bySub] = await Promise.all([
      refusedWithin(ofGroup, suspendedAt, 'suspended group'),
      refusedWithin(ofSub, suspendedAt, 'subsidiary of suspended group'),
    ]);
    expect(slowest(byGroup)).toBeLessThan(1_000);
    expect(slowest(bySub)).toBeLessThan(1_000);

    const reactivate = await request(tenancy.httpUrl).post(`/v1/tenants/${suspendedGroup.id}/reactivate`).set(bearer(op));
    expect(reactivate.status).toBe(200);
    // Tokens carry whole seconds and one issued in the second after a suspension is refused too
    // (it may have been signed by a request that raced the suspension): ask for the new one later.
    while (Math.floor(Date.now() / 1000) <= Math.floor(suspendedAt / 1000) + 1) await new Promise((r) => setTimeout(r, 50));
    renewedGroupToken = await tokenFor(tenancy, groupClient.clientId, groupClient.secret);
    const renewed = probes(renewedGroupToken, suspendedGroup, prefixes.group);
    await waitFor(
      async () => {
        for (const probe of Object.values(renewed)) if (![200, 201].includes((await probe()).status)) return undefined;
        return true;
      },
      5_000,
      'the new token to be honoured everywhere after the reactivation',
    );
    // The old ones stay dead: reactivation does not bring back what was issued before the suspension.
    for (const [name, probe] of [...Object.entries(ofGroup), ...Object.entries(ofSub)]) {
      expect({ name, status: (await probe()).status }).toEqual({ name, status: 401 });
    }
  });

  it('ends a WatchChanges stream opened before its client was revoked, before it carries another change', async () => {
    const tenant = await createTenant(tenancy, op, { kind: 'group' });
    const watcher = await clientToken(tenancy, op, tenant.id, SCOPES);
    const writer = await clientToken(tenancy, op, tenant.id, SCOPES);
    const prefix = await prefixOf(tenant, writer.token);
    const grpc = identifierGrpcClient(nodes[0].grpcUrl);
    try {
      const stream = grpc.watchChanges({ prefix }, watcher.token);
      const seen: string[] = [];
      const ended = new Promise<{ code?: number }>((resolve) => {
        stream.on('data', (c: { handle: string }) => seen.push(c.handle));
        stream.on('error', (err: { code?: number }) => resolve(err));
        stream.on('end', () => resolve({}));
      });
      // Writes until the stream has joined and carried one change (a change before it joined never reaches it).
      const first = await waitFor(
        async () => {
          const handle = handleUnder(prefix);
          await request(nodes[0].httpUrl).put(`/api/handles/${handle}`).set(bearer(writer.token)).send({ values: value() });
          await new Promise((r) => setTimeout(r, 200));
          return seen.includes(handle) ? handle : undefined;
        },
        15_000,
        'the stream to carry a change',
      );
      expect(first).toBeDefined();

      const revoke = await request(tenancy.httpUrl).delete(`/v1/tenants/${tenant.id}/clients/${watcher.clientId}`).set(bearer(op));
      expect(revoke.status).toBe(204);
      // Wait until the instance refuses the token, then write again: the stream must not carry it.
      await waitFor(
        async () => {
          const res = await request(nodes[0].httpUrl).get('/v1/prefixes').set(bearer(watcher.token));
          return res.status === 401 ? true : undefined;
        },
        5_000,
        'the revocation to arrive',
      );
      const after = handleUnder(prefix);
      const put = await request(nodes[0].httpUrl).put(`/api/handles/${after}`).set(bearer(writer.token)).send({ values: value() });
      expect(put.status).toBe(201);
      const outcome = await ended;
      expect(outcome.code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(seen).not.toContain(after);
    } finally {
      grpc.close();
    }
  });

  it('refuses those old tokens at an identifier instance started after the revocations (it reads back on start)', async () => {
    const late = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    try {
      const put = (token: string, prefix: string) =>
        request(late.httpUrl)
          .put(`/api/handles/${handleUnder(prefix)}`)
          .set(bearer(token))
          .send({ values: value() });
      // The very first requests, with no wait: the replay is applied before the instance listens.
      expect((await put(revokedToken, prefixes.revoked)).status).toBe(401);
      expect((await put(suspendedGroupToken, prefixes.group)).status).toBe(401);
      expect((await put(renewedGroupToken, prefixes.group)).status).toBe(201);
    } finally {
      await late.close();
    }
  });

  it('refuses management operations at tenancy from what PostgreSQL says, even before any event is heard', async () => {
    const tenant = await createTenant(tenancy, op, { kind: 'group' });
    const client = await clientToken(tenancy, op, tenant.id, SCOPES);
    const createClient = () =>
      request(tenancy.httpUrl)
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(bearer(client.token))
        .send({ name: 'x', scopes: ['tenants:read'] });
    const grant = () =>
      request(tenancy.httpUrl)
        .post(`/v1/tenants/${tenant.id}/grants`)
        .set(bearer(client.token))
        .send({ granteeTenantId: partner.id, dataScope: 'devices:read' });
    expect((await createClient()).status).toBe(201);
    // Revoked in the database only: no ClientRevoked event exists, so no revocation view knows.
    await tenancy.dataSource.query(`UPDATE oauth_clients SET status = 'revoked', revoked_at = now() WHERE client_id = $1`, [
      client.clientId,
    ]);
    const refused = await createClient();
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'INVALID_TOKEN' });
    expect((await grant()).status).toBe(401);
    // Only the live check refused it: a read, which trusts the view, still passes.
    expect((await request(tenancy.httpUrl).get(`/v1/tenants/${tenant.id}`).set(bearer(client.token))).status).toBe(200);

    // The same for a tenant suspended in the database only.
    const other = await createTenant(tenancy, op, { kind: 'group' });
    const otherClient = await clientToken(tenancy, op, other.id, SCOPES);
    await tenancy.dataSource.query(`UPDATE tenants SET status = 'suspended' WHERE id = $1`, [other.id]);
    const bySuspended = await request(tenancy.httpUrl)
      .post(`/v1/tenants/${other.id}/clients`)
      .set(bearer(otherClient.token))
      .send({ name: 'x', scopes: ['tenants:read'] });
    expect(bySuspended.status).toBe(401);
    expect(bySuspended.body).toMatchObject({ code: 'INVALID_TOKEN' });
  });
});
