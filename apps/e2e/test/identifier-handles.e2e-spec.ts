import { status as GrpcStatus } from '@grpc/grpc-js';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { identifierGrpcClient, enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';

const SCOPES = ['tenants:read', 'tenants:write', 'clients:write', 'identifiers:write'];

describe('identifier node: onboarding, registration and access-controlled resolution', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let grpc: ReturnType<typeof identifierGrpcClient>;
  let group: CreatedTenant, sub: CreatedTenant, other: CreatedTenant, partner: CreatedTenant;
  const tokens: Record<string, string> = {};
  const prefixes: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnvironment('identifier');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    grpc = identifierGrpcClient(node.grpcUrl);
    const op = await operatorToken(tenancy);
    tokens.op = op;
    group = await createTenant(tenancy, op, { kind: 'group' });
    other = await createTenant(tenancy, op, { kind: 'group' });
    partner = await createTenant(tenancy, op, { kind: 'group' });
    tokens.group = (await clientToken(tenancy, op, group.id, SCOPES)).token;
    tokens.other = (await clientToken(tenancy, op, other.id, SCOPES)).token;
    tokens.partner = (await clientToken(tenancy, op, partner.id, SCOPES)).token;
    sub = await createTenant(tenancy, tokens.group, { kind: 'subsidiary' });
    tokens.sub = (await clientToken(tenancy, tokens.group, sub.id, SCOPES)).token;
    // Each onboarded tenant gets its enterprise prefix through TenantOnboarded → PrefixAllocated.
    for (const [who, tenant] of Object.entries({ group, sub, other, partner })) {
      prefixes[who] = await enterprisePrefixOf(node.httpUrl, tokens[who], `the prefix of ${tenant.id}`);
    }
  });

  afterAll(async () => {
    grpc?.close();
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  const put = (who: string, handle: string, values: unknown[], headers: Record<string, string> = {}) =>
    request(node.httpUrl).put(`/api/handles/${handle}`).auth(tokens[who], { type: 'bearer' }).set(headers).send({ values });
  const postBatch = (who: string, items: unknown[]) =>
    request(node.httpUrl).post('/v1/identifiers/batch').auth(tokens[who], { type: 'bearer' }).send({ items });
  const get = (handle: string, who?: string) => {
    const r = request(node.httpUrl).get(`/api/handles/${handle}`);
    return who ? r.auth(tokens[who], { type: 'bearer' }) : r;
  };

  it('allocates each onboarded tenant its own enterprise prefix under the node prefix', () => {
    const all = Object.values(prefixes);
    expect(new Set(all).size).toBe(all.length);
    for (const p of all) expect(p).toMatch(/^88\.100\.\d{4,}$/);
  });

  it('registers under the own prefix and resolves it in the Handle REST format', async () => {
    const handle = `${prefixes.group}/PUMP-000042`;
    const res = await put('group', handle, [
      { index: 1, type: 'URL', data: { format: 'string', value: 'https://example.com/pumps/42' } },
      { index: 2, type: 'EMAIL', data: { format: 'string', value: 'maintenance@example.com' }, ttl: 3600 },
    ]);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ responseCode: 1, handle, version: 1 });
    const resolved = await get(handle);
    expect(resolved.status).toBe(200);
    expect(resolved.body).toEqual({
      responseCode: 1,
      handle,
      values: [
        {
          index: 1,
          type: 'URL',
          data: { format: 'string', value: 'https://example.com/pumps/42' },
          ttl: 86400,
          timestamp: expect.any(String),
        },
        { index: 2, type: 'EMAIL', data: { format: 'string', value: 'maintenance@example.com' }, ttl: 3600, timestamp: expect.any(String) },
        // Issue 8.3: the server's HS_ADMIN is public, in the Handle System's shape.
        {
          index: 100,
          type: 'HS_ADMIN',
          data: { format: 'admin', value: { handle: `0.NA/${prefixes.group}`, index: 200, permissions: '011111110011' } },
          ttl: 86400,
          timestamp: expect.any(String),
        },
      ],
    });
    // Handle comparison folds ASCII case in the suffix.
    expect((await get(`${prefixes.group}/pump-000042`)).body.handle).toBe(handle);
    // Filters: by type, by index.
    expect((await get(`${handle}?type=EMAIL`)).body.values.map((v: { index: number }) => v.index)).toEqual([2]);
    expect((await get(`${handle}?index=1`)).body.values.map((v: { index: number }) => v.index)).toEqual([1]);
    // Issue 8.6: "values not found" is an answer in resolution, HTTP 200 with no values.
    const none = await get(`${handle}?type=PHONE`);
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ responseCode: 200, handle, values: [] });
  });

  it("refuses registration under another tenant's prefix; a group may use its subsidiary's", async () => {
    const refused = await put('other', `${prefixes.group}/INTRUDER-1`, [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }]);
    expect(refused.status).toBe(403);
    expect(refused.body.responseCode).toBe(400);
    const bySub = await put('sub', `${prefixes.group}/FROM-SUB`, [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }]);
    expect(bySub.status).toBe(403);
    const byGroup = await put('group', `${prefixes.sub}/VALVE-7`, [
      { index: 1, type: 'URL', data: { format: 'string', value: 'https://example.com/v/7' } },
    ]);
    expect(byGroup.status).toBe(201);
    // The identifier belongs to the subsidiary, whose prefix it is under.
    const admin = await get(`${prefixes.sub}/VALVE-7?index=100`, 'sub');
    // Issue 8.3: its admin is the subsidiary's prefix record; no tenant id in the value.
    expect(admin.body.values[0]).toMatchObject({
      type: 'HS_ADMIN',
      data: { value: { handle: `0.NA/${prefixes.sub}`, index: 200, permissions: '011111110011' } },
    });
    expect(admin.text).not.toContain(sub.id);
  });

  it('shows anonymous callers, the owner and a granted partner exactly what each may read', async () => {
    const handle = `${prefixes.group}/BATCH-2026-11`;
    expect(
      (
        await put('group', handle, [
          { index: 1, type: 'URL', data: { format: 'string', value: 'https://example.com/b' } },
          { index: 2, type: 'SERIAL', data: { format: 'string', value: 'SN-1' }, access: 'tenant' },
          { index: 3, type: 'QUALITY', data: { format: 'string', value: 'A' }, access: 'granted', grantees: [partner.id] },
        ])
      ).status,
    ).toBe(201);
    const indexes = async (who?: string) => (await get(handle, who)).body.values.map((v: { index: number }) => v.index);
    // Issue 8.3: everyone who sees the record also sees its public HS_ADMIN (100).
    expect(await indexes()).toEqual([1, 100]);
    expect(await indexes('group')).toEqual([1, 2, 3, 100]);
    expect(await indexes('partner')).toEqual([1, 3, 100]);
    expect(await indexes('other')).toEqual([1, 100]);

    // The same answer over gRPC.
    const viaGrpc = await grpc.resolve({ handle, types: [], indexes: [], authoritative: false }, tokens.partner);
    expect(viaGrpc.values.map((v) => [v.index, v.type, JSON.parse(v.valueJson)])).toEqual([
      [1, 'URL', 'https://example.com/b'],
      [3, 'QUALITY', 'A'],
      [100, 'HS_ADMIN', { handle: `0.NA/${prefixes.group}`, index: 200, permissions: '011111110011' }],
    ]);
    const restValues = (await get(handle, 'partner')).body.values;
    expect(viaGrpc.values.map((v) => v.timestamp)).toEqual(restValues.map((v: { timestamp: string }) => v.timestamp));
  });

  it('replays a retried write with the same Idempotency-Key and refuses a stale version', async () => {
    const handle = `${prefixes.group}/IDEM-1`;
    const values = [{ index: 1, type: 'URL', data: { format: 'string', value: 'https://example.com/1' } }];
    const first = await put('group', handle, values, { 'Idempotency-Key': 'req-123' });
    const retry = await put('group', handle, values, { 'Idempotency-Key': 'req-123' });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    const [{ n }]: { n: number }[] = await node.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE envelope->'data'->>'key' = $1`,
      [`${prefixes.group}/idem-1`],
    );
    expect(n).toBe(1);
    const reused = await put('group', handle, [{ index: 1, type: 'URL', data: { format: 'string', value: 'changed' } }], {
      'Idempotency-Key': 'req-123',
    });
    expect(reused.status).toBe(422);

    const update = await put('group', handle, [{ index: 1, type: 'URL', data: { format: 'string', value: 'v2' } }], { 'If-Match': '"1"' });
    expect(update.status).toBe(200);
    expect(update.body.version).toBe(2);
    const stale = await put('group', handle, [{ index: 1, type: 'URL', data: { format: 'string', value: 'v3' } }], { 'If-Match': '"1"' });
    expect(stale.status).toBe(409);
    const exists = await request(node.httpUrl)
      .put(`/api/handles/${handle}?overwrite=false`)
      .auth(tokens.group, { type: 'bearer' })
      .send({ values });
    expect(exists.status).toBe(409);
    expect(exists.body.responseCode).toBe(101);
  });

  it('serves repeated resolutions from cache and shows an update at a second instance within a second', async () => {
    const second = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    try {
      const handle = `${prefixes.group}/CACHED-1`;
      const write = (value: string) => put('group', handle, [{ index: 1, type: 'URL', data: { format: 'string', value } }]);
      const readAtSecond = async () => {
        const res = await request(second.httpUrl).get(`/api/handles/${handle}`);
        return { value: res.body.values?.[0]?.data.value as string | undefined, source: res.headers['x-iip-resolution-source'] };
      };
      expect((await write('v1')).status).toBe(201);
      expect(await readAtSecond()).toEqual({ value: 'v1', source: expect.stringMatching(/redis|database/) });
      expect(await readAtSecond()).toEqual({ value: 'v1', source: 'memory' });
      // `auth=true` goes to the source, as in the Handle API; the bytes served from memory say the same.
      const fromMemory = await request(second.httpUrl).get(`/api/handles/${handle}`).set('x-request-id', 'fast-path-1');
      const fromDatabase = await request(second.httpUrl).get(`/api/handles/${handle}?auth=true`);
      expect(fromDatabase.headers['x-iip-resolution-source']).toBe('database');
      expect(fromMemory.headers['x-iip-resolution-source']).toBe('memory');
      expect(fromMemory.headers['x-request-id']).toBe('fast-path-1');
      expect(fromMemory.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(fromMemory.body).toEqual(fromDatabase.body);
      expect([fromMemory.headers.etag, fromDatabase.headers.etag]).toEqual([undefined, undefined]);

      // Wait until the second instance has joined the change feed (it starts in the background and
      // reads from the newest offset on, so a change written before it joined never reaches it:
      // keep writing until one does).
      let warmUps = 0;
      await waitFor(
        async () => {
          if ((await readAtSecond()).value?.startsWith('warm-up')) return true;
          await write(`warm-up-${++warmUps}`);
          return undefined;
        },
        30_000,
        'the change feed at the second instance',
      );
      expect((await readAtSecond()).source).toBe('memory');

      await write('v2');
      const seen = await waitFor(
        async () => ((await readAtSecond()).value === 'v2' ? true : undefined),
        1_000,
        'the update at the second instance',
      );
      expect(seen).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('registers a batch with a result per item, lists by prefix and finds identifiers by value', async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({
      handle: `${prefixes.group}/SN-BATCH-${String(i).padStart(3, '0')}`,
      values: [
        { index: 1, type: 'SERIAL', data: { format: 'string', value: `SERIAL-${i}` } },
        { index: 2, type: 'MODEL', data: { format: 'string', value: 'P-100' }, access: 'tenant' },
      ],
    }));
    const bad = [
      { handle: `${prefixes.other}/NOT-MINE`, values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }] },
      { handle: '88.100..bad/X', values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }] },
      { handle: items[0].handle, values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'dup' } }] },
    ];
    const res = await postBatch('group', [...items, ...bad]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 30, failed: 3 });
    expect(res.body.results.slice(30).map((r: { responseCode: number }) => r.responseCode)).toEqual([400, 102, 101]);

    // Again: everything exists now.
    const again = await postBatch('group', items);
    expect(again.body).toMatchObject({ created: 0, failed: 30 });
    expect(new Set(again.body.results.map((r: { responseCode: number }) => r.responseCode))).toEqual(new Set([101]));

    const firstPage = await request(node.httpUrl)
      .get(`/v1/identifiers?prefix=${prefixes.group}&limit=20`)
      .auth(tokens.group, { type: 'bearer' });
    expect(firstPage.status).toBe(200);
    const secondPage = await request(node.httpUrl)
      .get(`/v1/identifiers?prefix=${prefixes.group}&limit=20&cursor=${firstPage.body.nextCursor}`)
      .auth(tokens.group, { type: 'bearer' });
    const listed = [...firstPage.body.items, ...secondPage.body.items].map((i: { handle: string }) => i.handle);
    for (const item of items) expect(listed).toContain(item.handle);
    expect(
      (await request(node.httpUrl).get(`/v1/identifiers?prefix=${prefixes.group}`).auth(tokens.other, { type: 'bearer' })).status,
    ).toBe(403);

    const bySerial = await request(node.httpUrl).get('/v1/identifiers/reverse?type=SERIAL&value=SERIAL-7');
    expect(bySerial.body.items).toEqual([{ handle: items[7].handle }]);
    // A tenant-only value is found only by those who may read it.
    expect((await request(node.httpUrl).get('/v1/identifiers/reverse?type=MODEL&value=P-100')).body.items).toEqual([]);
    const asOwner = await request(node.httpUrl)
      .get('/v1/identifiers/reverse?type=MODEL&value=P-100&limit=50')
      .auth(tokens.group, { type: 'bearer' });
    expect(asOwner.body.items).toHaveLength(30);
  });

  it('applies a versioned template chosen at registration and rejects values that break it', async () => {
    const schema = {
      type: 'object',
      required: ['SERIAL', 'MODEL'],
      properties: { SERIAL: { type: 'string', pattern: '^SN-' }, MODEL: { type: 'string' }, URL: { type: 'string' } },
    };
    const created = await request(node.httpUrl).post('/v1/templates').auth(tokens.op, { type: 'bearer' }).send({ kind: 'pump', schema });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'pump', version: 1 });
    expect(
      (await request(node.httpUrl).post('/v1/templates').auth(tokens.group, { type: 'bearer' }).send({ kind: 'pump', schema })).status,
    ).toBe(403);

    const ok = await request(node.httpUrl)
      .put(`/api/handles/${prefixes.group}/PUMP-T-1`)
      .auth(tokens.group, { type: 'bearer' })
      .send({
        template: { kind: 'pump' },
        values: [
          { index: 1, type: 'SERIAL', data: { format: 'string', value: 'SN-1' } },
          { index: 2, type: 'MODEL', data: { format: 'string', value: 'P-1' } },
        ],
      });
    expect(ok.status).toBe(201);
    const broken = await request(node.httpUrl)
      .put(`/api/handles/${prefixes.group}/PUMP-T-2`)
      .auth(tokens.group, { type: 'bearer' })
      .send({ template: { kind: 'pump' }, values: [{ index: 1, type: 'SERIAL', data: { format: 'string', value: 'XX-1' } }] });
    expect(broken.status).toBe(400);
    expect(broken.body.responseCode).toBe(202);
    expect(broken.body.detail).toMatch(/MODEL/);
    // A later replace keeps following the identifier's template.
    const replace = await request(node.httpUrl)
      .put(`/api/handles/${prefixes.group}/PUMP-T-1`)
      .auth(tokens.group, { type: 'bearer' })
      .send({ values: [{ index: 1, type: 'SERIAL', data: { format: 'string', value: 'SN-2' } }] });
    expect(replace.status).toBe(400);
    const unknown = await request(node.httpUrl)
      .put(`/api/handles/${prefixes.group}/PUMP-T-3`)
      .auth(tokens.group, { type: 'bearer' })
      .send({ template: { kind: 'no-such-kind' }, values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.responseCode).toBe(202);
  });

  it('counts resolutions per prefix per hour and day', async () => {
    const handle = `${prefixes.partner}/COUNTED-1`;
    await put('partner', handle, [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }]);
    for (let i = 0; i < 5; i++) await get(handle);
    const hourly = await request(node.httpUrl)
      .get(`/v1/statistics/resolutions?prefix=${prefixes.partner}`)
      .auth(tokens.partner, { type: 'bearer' });
    expect(hourly.status).toBe(200);
    expect(hourly.body.items.reduce((n: number, p: { count: number }) => n + p.count, 0)).toBe(5);
    const daily = await request(node.httpUrl)
      .get(`/v1/statistics/resolutions?prefix=${prefixes.partner}&granularity=day`)
      .auth(tokens.partner, { type: 'bearer' });
    expect(daily.body.items).toEqual([{ period: expect.stringMatching(/T00:00:00.000Z$/), count: 5 }]);
    expect(
      (await request(node.httpUrl).get(`/v1/statistics/resolutions?prefix=${prefixes.partner}`).auth(tokens.other, { type: 'bearer' }))
        .status,
    ).toBe(403);
    expect(
      (
        await request(node.httpUrl)
          .get(`/v1/statistics/resolutions?prefix=${prefixes.partner}&granularity=week`)
          .auth(tokens.partner, { type: 'bearer' })
      ).status,
    ).toBe(400);
  });

  it('changes and removes single values over gRPC as the Handle API’s ?index= does, keeping the rest', async () => {
    const handle = `${prefixes.group}/GRPC-INDEX`;
    const v = (index: number, type: string, value: string) => ({
      index,
      type,
      format: 'string',
      valueJson: JSON.stringify(value),
      ttl: 0,
      access: '',
      grantees: [],
    });
    const none = { template: undefined, idempotencyKey: '' };
    await grpc.register({ handle, values: [v(1, 'SERIAL', 'SN-1'), v(2, 'URL', 'https://a.example')], ...none }, tokens.group);
    const changed = await grpc.update(
      { handle, values: [v(2, 'URL', 'https://b.example')], expectedVersion: 1, indexes: [2], ...none },
      tokens.group,
    );
    expect(changed).toEqual({ responseCode: 1, handle, version: 2 });
    const afterChange = (await get(handle)).body.values as { index: number; data: { value: string } }[];
    expect(afterChange.map((x) => [x.index, x.data.value])).toEqual([
      [1, 'SN-1'],
      [2, 'https://b.example'],
      [100, expect.anything()],
    ]);
    // The values sent must be exactly the listed indexes; a whole-record template does not go with them.
    await expect(
      grpc.update({ handle, values: [v(2, 'URL', 'x')], expectedVersion: 0, indexes: [3], ...none }, tokens.group),
    ).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
    const removed = await grpc.delete({ handle, expectedVersion: 2, idempotencyKey: '', indexes: [2] }, tokens.group);
    expect(removed).toEqual({ responseCode: 1, handle, version: 3 });
    expect(((await get(handle)).body.values as { index: number }[]).map((x) => x.index)).toEqual([1, 100]);
    await expect(grpc.delete({ handle, expectedVersion: 0, idempotencyKey: '', indexes: [9] }, tokens.group)).rejects.toMatchObject({
      code: GrpcStatus.NOT_FOUND,
    });
    expect(((await get(handle)).body.values as { index: number }[]).map((x) => x.index)).toEqual([1, 100]);
  });

  it('offers registration, update, delete, listing, reverse lookup and a change stream over gRPC', async () => {
    const handle = `${prefixes.group}/GRPC-1`;
    const value = (v: string) => [
      { index: 1, type: 'SERIAL', format: 'string', valueJson: JSON.stringify(v), ttl: 0, access: '', grantees: [] },
    ];
    const events: { handle: string; change: string; version: number }[] = [];
    const stream = grpc.watchChanges({ prefix: prefixes.group }, tokens.group);
    stream.on('data', (c: { handle: string; change: string; version: number }) =>
      events.push({ handle: c.handle, change: c.change, version: c.version }),
    );
    stream.on('error', () => undefined);
    try {
      // The stream is subscribed once a write made after it shows up.
      await waitFor(
        async () => {
          await put('group', `${prefixes.group}/GRPC-PING`, [
            { index: 1, type: 'URL', data: { format: 'string', value: String(Date.now()) } },
          ]);
          return events.length > 0 ? true : undefined;
        },
        30_000,
        'the change stream',
      );

      const created = await grpc.register({ handle, values: value('SN-G1'), template: undefined, idempotencyKey: '' }, tokens.group);
      expect(created).toEqual({ responseCode: 1, handle, version: 1 });
      await expect(
        grpc.register({ handle, values: value('SN-G1'), template: undefined, idempotencyKey: '' }, tokens.group),
      ).rejects.toMatchObject({ code: GrpcStatus.ALREADY_EXISTS });
      expect((await get(handle)).body.values[0].data.value).toBe('SN-G1');

      expect(
        (
          await grpc.update(
            { handle, values: value('SN-G2'), expectedVersion: 1, template: undefined, idempotencyKey: '', indexes: [] },
            tokens.group,
          )
        ).version,
      ).toBe(2);
      await expect(
        grpc.update(
          { handle, values: value('SN-G3'), expectedVersion: 1, template: undefined, idempotencyKey: '', indexes: [] },
          tokens.group,
        ),
      ).rejects.toMatchObject({ code: GrpcStatus.ABORTED });
      await expect(
        grpc.update(
          {
            handle: `${prefixes.group}/NOPE`,
            values: value('x'),
            expectedVersion: 0,
            template: undefined,
            idempotencyKey: '',
            indexes: [],
          },
          tokens.group,
        ),
      ).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
      await expect(
        grpc.register({ handle: `${prefixes.other}/X`, values: value('x'), template: undefined, idempotencyKey: '' }, tokens.group),
      ).rejects.toMatchObject({ code: GrpcStatus.PERMISSION_DENIED });
      await expect(
        grpc.register({ handle: 'bad handle', values: value('x'), template: undefined, idempotencyKey: '' }, tokens.group),
      ).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
      await expect(grpc.register({ handle, values: value('x'), template: undefined, idempotencyKey: '' })).rejects.toMatchObject({
        code: GrpcStatus.UNAUTHENTICATED,
      });

      expect((await grpc.reverseLookup({ type: 'SERIAL', value: 'SN-G2', limit: 10, cursor: '' })).handles).toEqual([handle]);
      const listed = await grpc.list({ prefix: prefixes.group, limit: 200, cursor: '' }, tokens.group);
      expect(listed.handles).toContain(handle);

      const batch = await grpc.batchRegister(
        {
          items: [
            { handle: `${prefixes.group}/GRPC-B1`, values: value('b1'), template: undefined, idempotencyKey: '' },
            { handle, values: value('dup'), template: undefined, idempotencyKey: '' },
          ],
          idempotencyKey: '',
        },
        tokens.group,
      );
      expect(batch).toMatchObject({ created: 1, failed: 1 });
      expect(batch.results.map((r) => r.responseCode)).toEqual([1, 101]);

      await grpc.delete({ handle, expectedVersion: 2, idempotencyKey: '', indexes: [] }, tokens.group);
      await waitFor(
        async () => (events.some((e) => e.handle === handle && e.change === 'deleted') ? true : undefined),
        10_000,
        'the delete on the stream',
      );
      expect(events.filter((e) => e.handle === handle).map((e) => [e.change, e.version])).toEqual([
        ['registered', 1],
        ['updated', 2],
        ['deleted', 3],
      ]);
      // Only changes under the watched prefix arrive.
      expect(events.every((e) => e.handle.startsWith(`${prefixes.group}/`))).toBe(true);
    } finally {
      stream.cancel();
    }
  });

  it('deletes, then answers 100 handle not found', async () => {
    const handle = `${prefixes.group}/TO-DELETE`;
    await put('group', handle, [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }]);
    const del = await request(node.httpUrl).delete(`/api/handles/${handle}`).auth(tokens.group, { type: 'bearer' });
    expect(del.body).toEqual({ responseCode: 1, handle });
    const gone = await get(handle);
    expect(gone.status).toBe(404);
    expect(gone.body.responseCode).toBe(100);
    await expect(grpc.resolve({ handle, types: [], indexes: [], authoritative: false })).rejects.toMatchObject({
      code: GrpcStatus.NOT_FOUND,
    });
  });

  it('resolves prefix records and says when it is not responsible', async () => {
    const record = await get(`0.NA/${prefixes.group}`);
    expect(record.status).toBe(200);
    expect(record.body.values).toEqual([
      expect.objectContaining({ index: 1, type: 'IIP_PREFIX_KIND', data: { format: 'string', value: 'enterprise' } }),
      // The node's native Handle site: one primary server answering queries over UDP, TCP and HTTP.
      expect.objectContaining({
        index: 3,
        type: 'HS_SITE',
        data: {
          format: 'site',
          value: expect.objectContaining({
            primaryMask: { primary: true, multiPrimary: false },
            servers: [
              expect.objectContaining({
                address: '127.0.0.1',
                interfaces: [
                  expect.objectContaining({ protocol: 'UDP', query: true }),
                  expect.objectContaining({ protocol: 'TCP', query: true }),
                  expect.objectContaining({ protocol: 'HTTP', query: true }),
                ],
              }),
            ],
          }),
        },
      }),
      // Issue 8.3: the prefix record's HS_ADMIN is public too, without the owner's tenant id.
      expect.objectContaining({
        index: 100,
        type: 'HS_ADMIN',
        data: { format: 'admin', value: { handle: `0.NA/${prefixes.group}`, index: 200, permissions: '011111110011' } },
      }),
    ]);
    // Issue 8.6: 301 is HTTP 400, as the Handle REST API documents.
    const elsewhere = await get('88.999.1/THING');
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.responseCode).toBe(301);
  });

  it.each([
    ['a handle without a suffix', 400, 102, () => get('88.100.1000')],
    ['a prefix with a non-ASCII letter', 400, 102, () => get('88.%C3%84/X')],
    ['undecodable UTF-8 in the handle', 400, 102, () => get('88.100/%FF%FE')],
    ['an overlong suffix', 400, 102, () => get(`88.100/${'x'.repeat(1100)}`)],
    ['a control character', 400, 102, () => get('88.100/A%00B')],
    ['a write without a token', 401, 402, () => request(node.httpUrl).put(`/api/handles/${prefixes.group}/X`).send({ values: [] })],
    ['an empty value list', 400, 202, () => put('group', `${prefixes.group}/EMPTY`, [])],
    [
      'a string value that is not a string',
      400,
      202,
      () => put('group', `${prefixes.group}/BAD`, [{ index: 1, type: 'URL', data: { format: 'string', value: 5 } }]),
    ],
    [
      'a duplicate index',
      400,
      202,
      () =>
        put('group', `${prefixes.group}/DUP`, [
          { index: 1, type: 'URL', data: { format: 'string', value: 'a' } },
          { index: 1, type: 'URL', data: { format: 'string', value: 'b' } },
        ]),
    ],
    [
      'an unknown field',
      400,
      202,
      () => put('group', `${prefixes.group}/UNK`, [{ index: 1, type: 'URL', data: { format: 'string', value: 'a' }, colour: 'red' }]),
    ],
    [
      'a granted value without grantees',
      400,
      202,
      () => put('group', `${prefixes.group}/G`, [{ index: 1, type: 'URL', data: { format: 'string', value: 'a' }, access: 'granted' }]),
    ],
    ['an overlong prefix', 400, 102, () => get(`88.${'1'.repeat(70)}/X`)],
    ['a prefix with an empty segment', 400, 102, () => get('88..100/X')],
    ['a malformed index filter', 400, 102, () => get(`${prefixes.group}/X?index=first`)],
    ['a repeated pretty flag', 400, 102, () => get(`${prefixes.group}/X?pretty=true&pretty=true`)],
    [
      'an unknown template',
      400,
      202,
      () =>
        request(node.httpUrl)
          .put(`/api/handles/${prefixes.group}/NO-TEMPLATE`)
          .auth(tokens.group, { type: 'bearer' })
          .send({ template: { kind: 'no-such-kind' }, values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }] }),
    ],
    [
      'values breaking their template',
      400,
      202,
      async () => {
        const schema = { type: 'object', required: ['SERIAL'], properties: { SERIAL: { type: 'string', pattern: '^SN-' } } };
        const made = await request(node.httpUrl)
          .post('/v1/templates')
          .auth(tokens.op, { type: 'bearer' })
          .send({ kind: 'bad-input', schema });
        expect([201, 409]).toContain(made.status);
        return request(node.httpUrl)
          .put(`/api/handles/${prefixes.group}/BREAKS-TEMPLATE`)
          .auth(tokens.group, { type: 'bearer' })
          .send({ template: { kind: 'bad-input' }, values: [{ index: 1, type: 'SERIAL', data: { format: 'string', value: 'XX-1' } }] });
      },
    ],
  ] as const)('answers %s with HTTP %i and Handle code %i', async (_, status, code, send) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.responseCode).toBe(code);
    expect(res.body.status).toBe(status);
  });

  // Outside /api/handles errors are problem+json, like every IIP route's (issue 7, point 12).
  it.each([
    [
      'an oversize batch',
      async () => {
        const res = await postBatch(
          'group',
          Array.from({ length: 5001 }, (_, i) => ({
            handle: `${prefixes.group}/OVER-${i}`,
            values: [{ index: 1, type: 'URL', data: { format: 'string', value: 'x' } }],
          })),
        );
        expect(res.body.errors).toEqual([{ field: 'items', message: 'must NOT have more than 5000 items' }]);
        return res;
      },
    ],
    ['a batch item without values', () => postBatch('group', [{ handle: `${prefixes.group}/NO-VALUES` }])],
  ] as const)('answers %s with HTTP 400 problem+json', async (_, send) => {
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});
