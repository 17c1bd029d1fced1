import { Client } from 'pg';
import request from 'supertest';
import { waitFor } from '@iip/platform-testing';
import { clientToken, createTenant } from '@iip/tenancy-testing';
import { PUMP_MODEL, TELEMETRY_SCOPES, TelemetryWorld, telemetryWorld } from './telemetry-world';

const DAY = 86_400_000;

/** What telemetry does per tenant: retention, selecting devices by line, tag or fleet query, raw reads by grant. */
describe('telemetry: retention per tenant, devices by selector, raw points by grant', () => {
  let w: TelemetryWorld;
  let pg: Client;

  const send = (deviceId: string, points: object) =>
    request(w.telemetry.httpUrl).post(`/v1/devices/${deviceId}/telemetry`).auth(w.token, { type: 'bearer' }).send(points);
  const stored = async (deviceId: string) =>
    (await pg.query<{ ts: Date }>(`SELECT ts FROM telemetry.points WHERE device_id = $1 ORDER BY ts`, [deviceId])).rows.map((r) =>
      r.ts.getTime(),
    );
  const rollupMinutes = async (deviceId: string) =>
    (await pg.query<{ bucket: Date }>(`SELECT bucket FROM telemetry.rollup_1m WHERE device_id = $1 ORDER BY bucket`, [deviceId])).rows.map(
      (r) => r.bucket.getTime(),
    );
  const storedAtLeast = (deviceId: string, n: number) =>
    waitFor(async () => ((await stored(deviceId)).length >= n ? true : undefined), 20_000, `${n} points stored`);
  const quotas = { maxDevices: 10, maxTelemetryPointsPerSecond: 1000 };

  beforeAll(async () => {
    w = await telemetryWorld('teltenants');
    pg = new Client({ connectionString: w.env.databaseUrl });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await w?.close();
  });

  it("keeps a tenant's points as long as its own retention says: a subsidiary with rawDays=1 loses a 2-day-old point at upkeep, its group keeps its own", async () => {
    const admin = (await clientToken(w.tenancy, w.op, w.tenantId, [...TELEMETRY_SCOPES, 'telemetry:admin'])).token;
    const sub = await createTenant(w.tenancy, w.op, { kind: 'subsidiary', parentId: w.tenantId, quotas });
    const retention = (token: string, tenantId?: string) =>
      request(w.telemetry.httpUrl)
        .put('/v1/telemetry/retention')
        .query(tenantId ? { tenantId } : {})
        .auth(token, { type: 'bearer' });

    const own = await request(w.telemetry.httpUrl).get('/v1/telemetry/retention').auth(w.token, { type: 'bearer' });
    expect(own.body).toEqual({ tenantId: w.tenantId, rawDays: 30, rollupDays: 730, source: 'default' });
    for (const bad of [
      { rawDays: 0, rollupDays: 10 },
      { rawDays: 5, rollupDays: 4000 },
      { rawDays: '5', rollupDays: 10 },
      { rawDays: 10 },
    ]) {
      const res = await retention(admin).send(bad);
      expect([res.status, res.headers['content-type']]).toEqual([400, expect.stringMatching(/application\/problem\+json/)]);
    }
    const shorter = await retention(admin).send({ rawDays: 10, rollupDays: 5 });
    expect([shorter.status, shorter.body.errors]).toEqual([400, [{ field: 'rollupDays', message: 'must be at least rawDays' }]]);
    expect((await retention(admin, 'not-a-uuid').send({ rawDays: 1, rollupDays: 1 })).status).toBe(400);
    expect((await retention(w.token, sub.id).send({ rawDays: 1, rollupDays: 1 })).status).toBe(403);
    // A tenant outside the caller's subtree reads as missing.
    const park = await createTenant(w.tenancy, w.op, { kind: 'park', quotas });
    expect((await retention(admin, park.id).send({ rawDays: 1, rollupDays: 1 })).status).toBe(404);

    // The group sets its subsidiary's retention, once telemetry knows the subsidiary.
    const set = await waitFor(
      async () => {
        const res = await retention(admin, sub.id).send({ rawDays: 1, rollupDays: 1 });
        return res.status === 404 ? undefined : res;
      },
      20_000,
      'telemetry to know the subsidiary',
    );
    expect([set.status, set.body]).toEqual([200, { tenantId: sub.id, rawDays: 1, rollupDays: 1, source: 'tenant' }]);

    const [mine, theirs] = [
      await w.device(),
      await waitFor(() => w.device({ tenantId: sub.id }).catch(() => undefined), 20_000, 'sub device'),
    ];
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const points = [
      { ts: now - 2 * DAY, values: { temperature: 1 } },
      { ts: now - 3_600_000, values: { temperature: 2 } },
    ];
    for (const d of [mine, theirs]) expect((await send(d.id, points)).status).toBe(202);
    await storedAtLeast(mine.id, 2);
    await storedAtLeast(theirs.id, 2);

    await w.telemetry.upkeep();

    expect(await stored(theirs.id)).toEqual([now - 3_600_000]);
    expect(await rollupMinutes(theirs.id)).toEqual([now - 3_600_000]);
    expect(await stored(mine.id)).toEqual([now - 2 * DAY, now - 3_600_000]);
    expect(await rollupMinutes(mine.id)).toEqual([now - 2 * DAY, now - 3_600_000]);
  });

  it("aggregates and reads the latest values of devices selected by line, tags or fleet query, as the caller's registry token sees them", async () => {
    const [a, b, c] = [
      await w.device({ tags: { line: 'L1', site: 'S1' } }),
      await w.device({ tags: { line: 'L1', site: 'S2' } }),
      await w.device({ tags: { line: 'L2', site: 'S1' } }),
    ];
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
    for (const [i, d] of [a, b, c].entries())
      expect((await send(d.id, { ts: minute + 1000, values: { temperature: 10 + i } })).status).toBe(202);
    for (const d of [a, b, c]) await storedAtLeast(d.id, 1);

    const range = {
      property: 'temperature',
      from: new Date(minute).toISOString(),
      to: new Date(minute + 60_000).toISOString(),
      bucket: '1m',
    };
    const aggregate = (selection: object) =>
      request(w.telemetry.httpUrl)
        .post('/v1/telemetry/aggregate')
        .auth(w.token, { type: 'bearer' })
        .send({ ...range, ...selection });
    const devicesOf = (res: request.Response) => (res.body.buckets as { deviceId: string }[]).map((x) => x.deviceId).sort();

    expect(devicesOf(await aggregate({ line: 'L1' }))).toEqual([a.id, b.id].sort());
    expect(devicesOf(await aggregate({ line: 'L1', tags: { site: 'S1' } }))).toEqual([a.id]);
    expect(devicesOf(await aggregate({ query: "tags.line = 'L2' OR tags.site = 'S2'" }))).toEqual([b.id, c.id].sort());
    expect(devicesOf(await aggregate({ site: 'S1', query: "NOT tags.line = 'L1'" }))).toEqual([c.id]);
    // A value is only ever a value.
    expect(devicesOf(await aggregate({ line: "L1' OR tags.line = 'L2" }))).toEqual([]);

    const latest = await request(w.telemetry.httpUrl).post('/v1/telemetry/latest').auth(w.token, { type: 'bearer' }).send({ line: 'L1' });
    expect(latest.status).toBe(200);
    expect(
      (latest.body.items as { deviceId: string; values: { temperature: { value: number } } }[])
        .map((i) => [i.deviceId, i.values.temperature.value])
        .sort(),
    ).toEqual(
      [
        [a.id, 10],
        [b.id, 11],
      ].sort(),
    );

    for (const [selection, field] of [
      [{ query: "tags.line = 'L1" }, 'query'],
      [{ query: 'nonsense > 1' }, 'query'],
      [{ deviceIds: [a.id], line: 'L1' }, 'deviceIds'],
      [{ tags: { 'a-b': 'x' } }, 'tags.a-b'],
      [{}, 'deviceIds'],
    ] as const) {
      const res = await aggregate(selection);
      expect([res.status, res.headers['content-type'], res.body.errors?.[0]?.field]).toEqual([
        400,
        expect.stringMatching(/application\/problem\+json/),
        field,
      ]);
    }
  });

  it("answers 404 for a park member's raw points to the park until the member grants it telemetry:read, aggregates all along", async () => {
    const park = await createTenant(w.tenancy, w.op, { kind: 'park', quotas });
    const member = await createTenant(w.tenancy, w.op, { kind: 'park-member', parentId: park.id, quotas });
    const memberToken = (await clientToken(w.tenancy, w.op, member.id, [...TELEMETRY_SCOPES, 'grants:write'])).token;
    // access:check lets telemetry ask tenancy (CheckAccess, with the park's own token) about its grants.
    const parkToken = (await clientToken(w.tenancy, w.op, park.id, ['telemetry:read', 'access:check'])).token;
    const model = await waitFor(
      async () => {
        const res = await request(w.registry.httpUrl)
          .post('/v1/models')
          .auth(memberToken, { type: 'bearer' })
          .send({ name: 'Pump', definition: PUMP_MODEL });
        return res.status === 503 ? undefined : res;
      },
      20_000,
      'the registry to know the member',
    );
    await request(w.registry.httpUrl).post(`/v1/models/${model.body.id}/versions/1/publish`).auth(memberToken, { type: 'bearer' }).send({});
    const device = await w.device({}, { token: memberToken, modelId: model.body.id });
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const accepted = await request(w.telemetry.httpUrl)
      .post(`/v1/devices/${device.id}/telemetry`)
      .auth(device.id, device.secret)
      .send({ ts: minute + 500, values: { temperature: 42 } });
    expect(accepted.status).toBe(202);
    await storedAtLeast(device.id, 1);

    const range = { property: 'temperature', from: new Date(minute).toISOString(), to: new Date(minute + 60_000).toISOString() };
    const raw = (id = device.id) =>
      request(w.telemetry.httpUrl).get(`/v1/devices/${id}/telemetry`).query(range).auth(parkToken, { type: 'bearer' });
    const before = await raw();
    const missing = await raw('00000000-0000-4000-8000-000000000000');
    const shape = (b: Record<string, unknown>) => ({ ...b, detail: undefined, instance: undefined, requestId: undefined });
    expect([before.status, shape(before.body)]).toEqual([404, shape(missing.body)]);
    expect(
      (await request(w.telemetry.httpUrl).get(`/v1/devices/${device.id}/telemetry/latest`).auth(parkToken, { type: 'bearer' })).status,
    ).toBe(404);
    const aggregate = await request(w.telemetry.httpUrl)
      .get(`/v1/devices/${device.id}/telemetry/aggregate`)
      .query({ ...range, bucket: '1m' })
      .auth(parkToken, { type: 'bearer' });
    expect(aggregate.body.buckets).toMatchObject([{ deviceId: device.id, count: 1, sum: 42 }]);

    const grant = await request(w.tenancy.httpUrl)
      .post(`/v1/tenants/${member.id}/grants`)
      .auth(memberToken, { type: 'bearer' })
      .send({ granteeTenantId: park.id, dataScope: 'telemetry:read' });
    expect(grant.status).toBe(201);
    // An answer is remembered for a second.
    const after = await waitFor(
      async () => {
        const res = await raw();
        return res.status === 200 ? res : undefined;
      },
      5_000,
      'the grant to be honoured',
    );
    expect(after.body.items).toEqual([{ ts: new Date(minute + 500).toISOString(), value: 42 }]);
    const latest = await request(w.telemetry.httpUrl).get(`/v1/devices/${device.id}/telemetry/latest`).auth(parkToken, { type: 'bearer' });
    expect(latest.body.values.temperature.value).toBe(42);

    // Revoked: refused again.
    expect(
      (
        await request(w.tenancy.httpUrl)
          .delete(`/v1/tenants/${member.id}/grants/${park.id}/telemetry:read`)
          .auth(memberToken, { type: 'bearer' })
      ).status,
    ).toBe(204);
    await waitFor(async () => ((await raw()).status === 404 ? true : undefined), 5_000, 'the revoked grant to stop working');
  });
});
