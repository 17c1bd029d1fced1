import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { nativePortsOf, startHandleJavaClient, startTestIdentifier } from '@iip/identifier-testing';

/**
 * Prefixes of the whole Handle System, not only 88.x.y (issue 8 point 5): node A (top-level, hosts
 * 88.100) delegates the world prefix 21.T14999 to node B, which hosts it. Prefixes compare ignoring
 * ASCII case, as in HANDLE.NET; what a node allocates itself stays numeric.
 */
describe('world prefixes: delegation, case-insensitive resolution and numeric allocation', () => {
  let envA: TestEnvironment;
  let envB: TestEnvironment;
  let tenancy: RunningTenancy;
  let nodeA: ServiceRuntime;
  let nodeB: ServiceRuntime;
  let op: string;
  let tenant: CreatedTenant;

  beforeAll(async () => {
    envA = await createTestEnvironment('worlda');
    envB = await createTestEnvironment('worldb');
    tenancy = await startTestTenancy(envA);
    nodeA = await startTestIdentifier(envA, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100', IDENTIFIER_NODE_ROLE: 'top-level' });
    // Configured in lower case on purpose: the node keeps its prefix in canonical case.
    nodeB = await startTestIdentifier(envB, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '21.t14999', KAFKA_TOPIC_PREFIX: envA.topicPrefix });
    op = await operatorToken(tenancy);
    tenant = await createTenant(tenancy, op, { kind: 'group' });
  });

  afterAll(async () => {
    await nodeB?.close();
    await nodeA?.close();
    await tenancy?.close();
    await envB?.cleanup();
    await envA?.cleanup();
  });

  const atA = (handle: string) => request(nodeA.httpUrl).get(`/api/handles/${handle}`);
  const delegateAtA = (prefix: string, baseUrl: string) =>
    request(nodeA.httpUrl).put(`/v1/delegations/${prefix}`).auth(op, { type: 'bearer' }).send({ baseUrl });
  const allocate = (node: ServiceRuntime, prefix: string) =>
    request(node.httpUrl).post('/v1/prefixes').auth(op, { type: 'bearer' }).send({ prefix, tenantId: tenant.id });

  it('delegates 21.T14999 to the node hosting it and resolves 21.t14999/ABC through the first node', async () => {
    // B's operator owns B's node prefix once tenancy's events reached B.
    await waitFor(
      async () => {
        const res = await request(nodeB.httpUrl)
          .put('/api/handles/21.T14999/ABC')
          .auth(op, { type: 'bearer' })
          .send({ values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'https://node-b.example/abc' } }] });
        return res.status === 201 ? true : undefined;
      },
      30_000,
      'registration at node B',
    );
    // B answers for its prefix in any ASCII case, and for the suffix in any ASCII case.
    const atB = await request(nodeB.httpUrl).get('/api/handles/21.t14999/abc');
    expect(atB.status).toBe(200);
    expect(atB.body).toMatchObject({ responseCode: 1, handle: '21.T14999/ABC' });

    const delegated = await delegateAtA('21.t14999', nodeB.httpUrl);
    expect(delegated.status).toBe(200);
    expect(delegated.body.prefix).toBe('21.T14999');
    // The same prefix in the other case is the same delegation, not a second one.
    expect((await delegateAtA('21.T14999', nodeB.httpUrl)).status).toBe(200);
    const list = await request(nodeA.httpUrl).get('/v1/delegations').auth(op, { type: 'bearer' });
    expect(list.body.items.filter((d: { prefix: string }) => d.prefix.toUpperCase() === '21.T14999')).toEqual([
      expect.objectContaining({ prefix: '21.T14999', baseUrl: nodeB.httpUrl }),
    ]);

    const first = await atA('21.t14999/ABC');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      responseCode: 1,
      handle: '21.T14999/ABC',
    });
    expect(first.body.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, type: 'URL', data: { format: 'string', value: 'https://node-b.example/abc' } }),
      ]),
    );
    expect(first.headers['x-iip-resolution-source']).toBe('remote');
    // The other spelling of the prefix hits the same cached answer.
    const again = await atA('21.T14999/ABC');
    expect(again.headers['x-iip-resolution-source']).toBe('remote-cache');
    expect(again.body).toEqual(first.body);
    // The suffix's case is the remote node's to fold (HANDLE.NET servers may be case-sensitive): B folds it.
    const lowerSuffix = await atA('21.T14999/abc');
    expect(lowerSuffix.status).toBe(200);
    expect(lowerSuffix.body.handle).toBe('21.T14999/ABC');

    // A, top-level, publishes where the prefix is served, whatever case the client asks in.
    const record = await atA('0.na/21.t14999');
    expect(record.status).toBe(200);
    expect(record.body.handle).toBe('0.NA/21.T14999');
    expect(record.body.values).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'IIP_NODE_URL', data: { format: 'string', value: nodeB.httpUrl } })]),
    );

    const missing = await atA('21.T14999/NOT-THERE');
    expect(missing.status).toBe(404);
    expect(missing.body.responseCode).toBe(100);
  });

  it('natively, refers a client to the node serving the prefix (302 with its HS_SITE), or resolves when asked to recurse', async () => {
    const java = await startHandleJavaClient();
    try {
      const a = nativePortsOf(nodeA);
      const b = nativePortsOf(nodeB);
      const atNativeA = (recursive: boolean, transport = 'udp') =>
        java.request({
          op: 'resolve',
          handle: '21.T14999/ABC',
          recursive,
          transport,
          server: { host: '127.0.0.1', port: a.tcp, httpPort: a.http },
        });
      const referred = await atNativeA(false);
      expect(referred).toMatchObject({ ok: false, responseCode: 302, referralHandle: '0.NA/21.T14999' });
      const [site] = referred.values as { type: string; site: { servers: { interfaces: { protocol: string; port: number }[] }[] } }[];
      expect(site.type).toBe('HS_SITE');
      const ports = Object.fromEntries(site.site.servers[0].interfaces.map((i) => [i.protocol, i.port]));
      expect(ports).toEqual({ UDP: b.udp, TCP: b.tcp, HTTP: b.http });
      // Following the referral: node B answers for its handle over the interface the site names.
      const atB = await java.request({
        op: 'resolve',
        handle: '21.T14999/ABC',
        transport: 'tcp',
        server: { host: '127.0.0.1', port: ports.TCP },
      });
      expect(atB).toMatchObject({ ok: true, responseCode: 1, handle: '21.T14999/ABC' });
      // Asked to recurse, node A follows its delegation itself and answers with B's values.
      const recursive = await atNativeA(true, 'tcp');
      expect(recursive).toMatchObject({ ok: true, responseCode: 1 });
      expect((recursive.values as { type: string; text: string }[]).filter((v) => v.type === 'URL').map((v) => v.text)).toEqual([
        'https://node-b.example/abc',
      ]);
      // Nothing delegated: not responsible (301), with or without recursion.
      const nowhere = await java.request({
        op: 'resolve',
        handle: '21.T99999/X',
        recursive: false,
        transport: 'udp',
        server: { host: '127.0.0.1', port: a.tcp },
      });
      expect(nowhere).toMatchObject({ ok: false, responseCode: 301 });
    } finally {
      await java.close();
    }
  });

  it('accepts the delegation of any valid world prefix and refuses malformed ones', async () => {
    for (const prefix of ['20.500.12345', '11500', '10.1045']) {
      const res = await delegateAtA(prefix, 'http://127.0.0.1:1');
      expect(res.status).toBe(200);
      expect(res.body.prefix).toBe(prefix);
    }
    for (const prefix of ['21..T14999', '21.T%2014999', '21.%C3%84', '0.NA']) {
      const res = await delegateAtA(prefix, 'http://127.0.0.1:1');
      expect(res.status).toBe(400);
    }
    // Not delegated anywhere: a world prefix this node knows nothing of is "not responsible", not "invalid".
    // (The HTTP status of 301 is the Handle REST API's to decide; the response code is what clients act on.)
    const elsewhere = await atA('21.T99999/X');
    expect(elsewhere.status).toBeGreaterThanOrEqual(400);
    expect(elsewhere.body.responseCode).toBe(301);
    expect((await atA('21..T1/X')).body.responseCode).toBe(102);
  });

  it('allocates only numeric prefixes under its own: 21.T1 and 88.100.T1 are refused on an 88.100 node', async () => {
    // The tenant is known to A once its TenantOnboarded event arrived; until then allocation answers 422.
    const numeric = await waitFor(
      async () => {
        const res = await allocate(nodeA, '88.100.77123');
        return res.status === 422 ? undefined : res;
      },
      30_000,
      'the tenant to reach node A',
    );
    expect(numeric.status).toBe(201);
    expect(numeric.body.prefix).toBe('88.100.77123');

    const world = await allocate(nodeA, '21.T1');
    expect(world.status).toBeGreaterThanOrEqual(400);
    expect(world.status).toBeLessThan(500);
    expect(world.body.code).toBe('SERVER_NOT_RESPONSIBLE');
    for (const prefix of ['88.100.T1', '88.100.t1', '88.100.1.A']) {
      const res = await allocate(nodeA, prefix);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_VALUE');
      expect(res.body.detail ?? res.body.message).toContain('numeric prefixes only');
    }

    // A node hosting a world prefix numbers what it allocates under it too, in canonical case.
    const underWorld = await waitFor(
      async () => {
        const res = await allocate(nodeB, '21.t14999.5');
        return res.status === 422 ? undefined : res;
      },
      30_000,
      'the tenant to reach node B',
    );
    expect(underWorld.status).toBe(201);
    expect(underWorld.body.prefix).toBe('21.T14999.5');
    expect((await allocate(nodeB, '21.T14999.X')).status).toBe(400);
  });
});
