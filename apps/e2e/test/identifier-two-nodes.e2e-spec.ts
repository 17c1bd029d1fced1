import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { RunningTenancy, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { startTestIdentifier } from '@iip/identifier-testing';

/**
 * Node A (top-level, hosts 88.100) delegates 88.200 to node B. Each node has its own database;
 * both trust the same tenancy and hear its events.
 */
describe('recursive resolution across two identifier nodes', () => {
  let envA: TestEnvironment;
  let envB: TestEnvironment;
  let tenancy: RunningTenancy;
  let nodeA: ServiceRuntime;
  let nodeB: ServiceRuntime | undefined;
  let op: string;

  beforeAll(async () => {
    envA = await createTestEnvironment('nodea');
    envB = await createTestEnvironment('nodeb');
    tenancy = await startTestTenancy(envA);
    nodeA = await startTestIdentifier(envA, tenancy.httpUrl, {
      IDENTIFIER_NODE_PREFIX: '88.100',
      IDENTIFIER_NODE_ROLE: 'top-level',
      IDENTIFIER_STALE_WINDOW_S: '20',
    });
    nodeB = await startTestIdentifier(envB, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.200', KAFKA_TOPIC_PREFIX: envA.topicPrefix });
    op = await operatorToken(tenancy);
  });

  afterAll(async () => {
    await nodeB?.close();
    await nodeA?.close();
    await tenancy?.close();
    await envB?.cleanup();
    await envA?.cleanup();
  });

  const atA = (handle: string) => request(nodeA.httpUrl).get(`/api/handles/${handle}`);

  it('follows the delegation, caches the answer, serves it stale while B is down, then fails clearly', async () => {
    // B's operator (the platform tenant) owns B's node prefix once tenancy's events reached B.
    await waitFor(
      async () => {
        const res = await request(nodeB!.httpUrl)
          .put('/api/handles/88.200/REMOTE-1')
          .auth(op, { type: 'bearer' })
          .send({ values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'https://node-b.example/remote-1' }, ttl: 1 }] });
        return res.status === 201 ? true : undefined;
      },
      30_000,
      'registration at node B',
    );
    const delegate = await request(nodeA.httpUrl)
      .put('/v1/delegations/88.200')
      .auth(op, { type: 'bearer' })
      .send({ baseUrl: nodeB!.httpUrl });
    expect(delegate.status).toBe(200);

    // The top-level node publishes where 88.200 is served, as a prefix record; B, a secondary node, publishes none.
    const record = await atA('0.NA/88.200');
    expect(record.status).toBe(200);
    expect(record.body.values).toEqual([
      expect.objectContaining({ index: 1, type: 'IIP_PREFIX_KIND', data: { format: 'string', value: 'delegated' } }),
      expect.objectContaining({ index: 2, type: 'IIP_NODE_URL', data: { format: 'string', value: nodeB!.httpUrl } }),
    ]);
    expect((await atA('0.NA/88.999')).body.responseCode).toBe(301);
    expect(
      (await request(nodeB!.httpUrl).put('/v1/delegations/88.900').auth(op, { type: 'bearer' }).send({ baseUrl: nodeA.httpUrl })).status,
    ).toBe(200);
    expect((await request(nodeB!.httpUrl).get('/api/handles/0.NA/88.900')).body.responseCode).toBe(301);

    const first = await atA('88.200/REMOTE-1');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      responseCode: 1,
      handle: '88.200/REMOTE-1',
      // Issue 8.3: B's public HS_ADMIN comes along.
      values: [
        { index: 1, data: { value: 'https://node-b.example/remote-1' } },
        {
          index: 100,
          type: 'HS_ADMIN',
          data: { format: 'admin', value: { handle: '0.NA/88.200', index: 200, permissions: '011111110011' } },
        },
      ],
    });
    expect(first.headers['x-iip-resolution-source']).toBe('remote');
    const again = await atA('88.200/REMOTE-1');
    expect(again.headers['x-iip-resolution-source']).toBe('remote-cache');
    expect(again.body).toEqual(first.body);

    const missing = await atA('88.200/NOT-THERE');
    expect(missing.status).toBe(404);
    expect(missing.body.responseCode).toBe(100);

    await nodeB!.close();
    nodeB = undefined;
    await new Promise((r) => setTimeout(r, 1_200)); // past the value's 1 s TTL
    const stale = await atA('88.200/REMOTE-1');
    expect(stale.status).toBe(200);
    expect(stale.headers['x-iip-resolution-source']).toBe('remote-stale');
    expect(stale.headers.warning).toContain('110');
    expect(stale.body.values[0].data.value).toBe('https://node-b.example/remote-1');

    const failed = await waitFor(
      async () => {
        const res = await atA('88.200/REMOTE-1');
        return res.status === 502 ? res : undefined;
      },
      45_000,
      'the stale window to close',
    );
    expect(failed.body).toMatchObject({ responseCode: 2, code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('ends a delegation loop with an error instead of hanging', async () => {
    expect(
      (await request(nodeA.httpUrl).put('/v1/delegations/88.300').auth(op, { type: 'bearer' }).send({ baseUrl: nodeA.httpUrl })).status,
    ).toBe(200);
    const res = await atA('88.300/LOOP');
    expect(res.body).toMatchObject({ responseCode: 6 });
    expect(res.status).toBe(508);
    expect(res.body.responseCode).toBe(6);
  });

  it('refuses to delegate its own prefix, and delegations to anyone but the operator', async () => {
    expect(
      (await request(nodeA.httpUrl).put('/v1/delegations/88.100.5').auth(op, { type: 'bearer' }).send({ baseUrl: 'http://127.0.0.1:1' }))
        .status,
    ).toBe(400);
    expect((await request(nodeA.httpUrl).put('/v1/delegations/88.400').send({ baseUrl: 'http://127.0.0.1:1' })).status).toBe(401);
  });
});
