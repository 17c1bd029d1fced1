import { credentials, makeGenericClientConstructor, Metadata, ServiceError } from '@grpc/grpc-js';
import { Kafka, Producer, logLevel } from 'kafkajs';
import request from 'supertest';
import { EventSources, RenewalV1, TelemetryEventTypes, Topics } from '@iip/contracts';
import { createEnvelope } from '@iip/platform-kafka';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { startTestDeviceRegistry } from '@iip/device-registry-testing';

const SCOPES = [
  'tenants:read',
  'tenants:write',
  'clients:write',
  'devices:read',
  'devices:write',
  'models:write',
  'renewal:read',
  'renewal:write',
];
const MODEL = {
  name: 'Reference equipment',
  definition: { properties: { temperature: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' } } },
};

/** YYYY-MM-01, `months` calendar months before the current one: an age the rules count exactly. */
function monthsAgo(months: number): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1));
  return d.toISOString().slice(0, 10);
}

/**
 * Renewal as a group (two subsidiaries) and a park (two members) meet it: a seeded fleet whose
 * candidates, reasons and indicators are worked out by hand below; telemetry's facts arrive as
 * telemetry publishes them (real Kafka, the platform's envelope).
 */
describe('renewal: candidates with reasons, the plan’s indicators rolled up the tree, a park sees aggregates only', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let registry: ServiceRuntime;
  let producer: Producer;
  let op: string;
  let group: CreatedTenant;
  let s1: CreatedTenant;
  let s2: CreatedTenant;
  let park: CreatedTenant;
  let m1: CreatedTenant;
  let m2: CreatedTenant;
  const token: Record<string, string> = {};
  const dev: Record<string, string> = {};
  const thisYear = new Date().getUTCFullYear();

  const api = () => request(registry.httpUrl);
  const as = (t: string) => ({
    get: (path: string) => api().get(path).auth(t, { type: 'bearer' }),
    post: (path: string, body: object) => api().post(path).auth(t, { type: 'bearer' }).send(body),
    put: (path: string, body: object) => api().put(path).auth(t, { type: 'bearer' }).send(body),
    patch: (path: string, body: object) => api().patch(path).auth(t, { type: 'bearer' }).send(body),
  });
  const publish = async (topic: string, type: string, tenantId: string, subject: string, data: object, id?: string) => {
    const envelope = createEnvelope({ type, source: EventSources.telemetry, tenantId, subject, data, ...(id ? { id } : {}) });
    await producer.send({ topic: env.topicPrefix + topic, acks: -1, messages: [{ key: subject, value: JSON.stringify(envelope) }] });
    return envelope.id;
  };
  const seen = (name: string, tenantId: string, at: Date) =>
    publish(Topics.telemetryActivity, TelemetryEventTypes.DeviceSeen, tenantId, dev[name], {
      deviceId: dev[name],
      tenantId,
      hour: new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000).toISOString(),
      lastSeenAt: at.toISOString(),
    });
  const indicators = async (t: string, query = '') => {
    const res = await as(t).get(`/v1/renewal/indicators${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  /** numerator / denominator of each indicator: what was worked out by hand. */
  const ratios = (body: { devices: number; indicators: Record<string, { numerator: number; denominator: number }> }) => ({
    devices: body.devices,
    ...Object.fromEntries(Object.entries(body.indicators).map(([k, v]) => [k, [v.numerator, v.denominator]])),
  });

  beforeAll(async () => {
    env = await createTestEnvironment('renewal');
    tenancy = await startTestTenancy(env);
    registry = await startTestDeviceRegistry(env, tenancy.httpUrl, {
      DEVICE_REGISTRY_TENANCY_GRPC_URL: tenancy.grpcUrl,
      DEVICE_REGISTRY_RENEWAL_SNAPSHOT_POLL_MS: '300',
    });
    producer = new Kafka({ clientId: 'renewal-test-telemetry', brokers: env.kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).producer(
      {
        idempotent: true,
        allowAutoTopicCreation: true,
      },
    );
    await producer.connect();
    op = await operatorToken(tenancy);
    group = await createTenant(tenancy, op, { kind: 'group' });
    token.group = (await clientToken(tenancy, op, group.id, SCOPES)).token;
    s1 = await createTenant(tenancy, token.group, { kind: 'subsidiary', parentId: group.id });
    s2 = await createTenant(tenancy, token.group, { kind: 'subsidiary', parentId: group.id });
    token.s1 = (await clientToken(tenancy, token.group, s1.id, SCOPES)).token;
    token.s2 = (await clientToken(tenancy, token.group, s2.id, SCOPES)).token;
    park = await createTenant(tenancy, op, { kind: 'park' });
    token.park = (await clientToken(tenancy, op, park.id, [...SCOPES, 'access:check'])).token;
    m1 = await createTenant(tenancy, op, { kind: 'park-member', parentId: park.id });
    m2 = await createTenant(tenancy, op, { kind: 'park-member', parentId: park.id });
    token.m1 = (await clientToken(tenancy, op, m1.id, SCOPES)).token;
    token.m2 = (await clientToken(tenancy, op, m2.id, SCOPES)).token;

    // The operator's model, published to every tenant.
    const model = await waitFor(
      async () => {
        const res = await as(op).post('/v1/models', MODEL);
        return res.status === 503 ? undefined : res;
      },
      20_000,
      'the registry to know the operator',
    );
    expect(model.status).toBe(201);
    await as(op).post(`/v1/models/${model.body.id}/versions/1/publish`, {});
    const register = async (name: string, who: string, profile: object, status = 'active') => {
      const res = await waitFor(
        async () => {
          const r = await as(token[who]).post('/v1/devices', {
            name,
            manufacturer: 'IIP test',
            serial: name,
            model: { id: model.body.id },
            status,
            profile,
          });
          return r.status === 503 ? undefined : r;
        },
        20_000,
        'the registry to know the tenant',
      );
      expect(res.status).toBe(201);
      dev[name] = res.body.id;
    };
    // Subsidiary 1
    await register('mt-old', 's1', {
      category: 'machine-tool',
      commissionedOn: monthsAgo(180),
      ncCapable: true,
      keyProcess: true,
      criticality: 'high',
    });
    await register('mt-new', 's1', { category: 'machine-tool', commissionedOn: monthsAgo(36), ncCapable: false, keyProcess: true });
    await register('pump-g3', 's1', { category: 'pump', commissionedOn: monthsAgo(60), efficiencyGrade: 3, criticality: 'critical' });
    await register('motor-g2', 's1', { category: 'motor', efficiencyGrade: 2 });
    // Subsidiary 2
    await register('motor-below', 's2', { category: 'motor', efficiencyGrade: 3, belowAccessLevel: true });
    await register('pump-unknown', 's2', { category: 'pump' });
    await register('mt-10y', 's2', { category: 'machine-tool', commissionedOn: monthsAgo(120), ncCapable: true, keyProcess: true });
    await register('mt-gone', 's2', { category: 'machine-tool', commissionedOn: monthsAgo(300), keyProcess: true });
    // Park members
    await register('m1-mt', 'm1', { category: 'machine-tool', commissionedOn: monthsAgo(144), ncCapable: true, keyProcess: true });
    await register('m1-pump', 'm1', { category: 'pump', efficiencyGrade: 1 });
    await register('m2-compressor', 'm2', { category: 'compressor', efficiencyGrade: 3 });
    await register('m2-mt', 'm2', { category: 'machine-tool', commissionedOn: monthsAgo(24), ncCapable: false, keyProcess: true });
    expect((await as(token.s2).post(`/v1/devices/${dev['mt-gone']}/lifecycle`, { status: 'decommissioned' })).status).toBe(200);

    // What telemetry says: who sent data (one of them three days ago), alarms, work orders.
    const now = new Date();
    for (const [name, tenant] of [
      ['mt-old', s1.id],
      ['pump-g3', s1.id],
      ['motor-g2', s1.id],
      ['mt-10y', s2.id],
      ['mt-gone', s2.id],
      ['m1-mt', m1.id],
    ] as const) {
      await seen(name, tenant, now);
    }
    await seen('mt-new', s1.id, new Date(now.getTime() - 3 * 86_400_000));
    for (let i = 0; i < 10; i++) {
      const alarm = {
        id: `00000000-0000-4000-8000-00000000000${i}`,
        tenantId: s1.id,
        deviceId: dev['pump-g3'],
        raisedAt: now.toISOString(),
      };
      const id = await publish(Topics.telemetryAlarm, TelemetryEventTypes.AlarmRaised, s1.id, alarm.id, {
        ...alarm,
        state: 'active',
        severity: 'high',
      });
      // Redelivered (same event) and announced again (same alarm, a new event): still one alarm each time.
      if (i === 0) {
        await publish(Topics.telemetryAlarm, TelemetryEventTypes.AlarmRaised, s1.id, alarm.id, { ...alarm, state: 'active' }, id);
        await publish(Topics.telemetryAlarm, TelemetryEventTypes.AlarmRaised, s1.id, alarm.id, { ...alarm, state: 'active' });
      }
    }
    const order = (id: string, outcome: string) => ({
      id,
      deviceId: dev['pump-unknown'],
      tenantId: s2.id,
      status: 'closed',
      reason: 'vibration',
      dueDate: now.toISOString().slice(0, 10),
      outcome,
      openedAt: now.toISOString(),
      closedAt: now.toISOString(),
      version: 3,
    });
    await publish(Topics.telemetryMaintenance, TelemetryEventTypes.WorkOrderClosed, s2.id, dev['pump-unknown'], order('wo-1', 'failure'));
    await publish(Topics.telemetryMaintenance, TelemetryEventTypes.WorkOrderClosed, s2.id, dev['pump-unknown'], order('wo-2', 'failure'));
    await publish(Topics.telemetryMaintenance, TelemetryEventTypes.WorkOrderClosed, s2.id, dev['pump-unknown'], order('wo-3', 'no-fault'));
    // An open order is no failure (yet).
    await publish(Topics.telemetryMaintenance, TelemetryEventTypes.WorkOrderOpened, s2.id, dev['pump-unknown'], {
      ...order('wo-4', 'failure'),
      status: 'open',
    });

    // Equipment investment: the 2023 baseline and this year's, reported by each.
    const invest = async (who: string, year: number, amountCny: number | string) => {
      const res = await as(token[who]).put(`/v1/renewal/investments/${year}`, { amountCny });
      expect(res.status).toBe(200);
      return res.body;
    };
    await invest('group', 2023, 1_000_000);
    await invest('s1', 2023, '200000.00');
    await invest('s1', thisYear, 900_000);
    await invest('s2', thisYear, '600000');
    await invest('m1', 2023, 100_000);
    await invest('m1', thisYear, 110_000);

    // Wait until telemetry's facts are in: the last ones sent (work orders; the activity of m1-mt).
    await waitFor(
      async () => {
        const c = await as(token.s2).get('/v1/renewal/candidates');
        const pump = c.body.items?.find((x: { deviceId: string }) => x.deviceId === dev['pump-unknown']);
        const parkNow = await indicators(token.park);
        const groupNow = await indicators(token.group);
        return pump?.reasons.some((r: { code: string }) => r.code === 'FAILURE_RATE_EXCEEDED') &&
          parkNow.indicators.networkingRate.numerator === 1 &&
          groupNow.indicators.networkingRate.numerator === 4
          ? true
          : undefined;
      },
      30_000,
      'the registry to apply telemetry’s events',
    );
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await registry?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  it('gives the group exactly the candidates worked out by hand, with their reasons, by priority', async () => {
    const res = await as(token.group).get('/v1/renewal/candidates?sort=priority&limit=200');
    expect(res.status).toBe(200);
    expect(res.body.ruleVersion).toEqual({ tenantId: null, version: 0 });
    const got = res.body.items.map((c: { deviceId: string; priority: number; action: string; reasons: { code: string }[] }) => [
      Object.keys(dev).find((k) => dev[k] === c.deviceId),
      c.priority,
      c.action,
      c.reasons.map((r) => r.code),
    ]);
    // Scores (README): 0.3·age + 0.3·energy + 0.2·safety + 0.2·failure, age = months / 240.
    //   pump-g3:     60/240 = .25, grade 3 → .7, critical → 1, 10 of 10 alarms → .5  = .585
    //   motor-below: no date → 0, below access → 1, unknown criticality → .4            = .38
    //   mt-old:      180/240 = .75, no energy part, high → .7                            = .365
    //   pump-unknown: unknown grade → .5, .4, 2 of 2 failures → .5                       = .33
    //   mt-new:      36/240 = .15, .4                                                    = .125
    // motor-g2 (grade 2), mt-10y (exactly 120 months, NC, networked) and the decommissioned mt-gone are no candidates.
    expect(got).toEqual([
      ['pump-g3', 58.5, 'replace', ['ENERGY_BELOW_SAVING_LEVEL', 'FAILURE_RATE_EXCEEDED']],
      ['motor-below', 38, 'must-replace', ['BELOW_ACCESS_LEVEL']],
      ['mt-old', 36.5, 'replace', ['MACHINE_TOOL_OVER_AGE']],
      ['pump-unknown', 33, 'replace', ['ENERGY_BELOW_SAVING_LEVEL', 'FAILURE_RATE_EXCEEDED']],
      ['mt-new', 12.5, 'digital-upgrade', ['KEY_PROCESS_NOT_NC', 'KEY_PROCESS_NOT_NETWORKED']],
    ]);
    expect(res.body.total).toBe(5);
    const byName = (n: string) => res.body.items.find((c: { deviceId: string }) => c.deviceId === dev[n]);
    expect(byName('pump-g3').reasons).toEqual([
      { code: 'ENERGY_BELOW_SAVING_LEVEL', action: 'replace', facts: { category: 'pump', efficiencyGrade: 3, requiredGrade: 2 } },
      // The alarm delivered twice and announced twice counts once: 10.
      {
        code: 'FAILURE_RATE_EXCEEDED',
        action: 'replace',
        facts: { alarms: 10, failures: 0, windowDays: 90, maxAlarms: 10, maxFailures: 2 },
      },
    ]);
    expect(byName('pump-unknown').reasons[1].facts).toMatchObject({ alarms: 0, failures: 2 });
    expect(byName('mt-old').reasons[0].facts).toEqual({
      category: 'machine-tool',
      commissionedOn: monthsAgo(180),
      ageYears: 15,
      maxYears: 10,
    });
    expect(byName('mt-new').reasons[1].facts.lastSeenAt).not.toBeNull();

    // Pages of two, in the same order, ending.
    const seenIds: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await as(token.group).get(`/v1/renewal/candidates?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seenIds.push(...page.body.items.map((c: { deviceId: string }) => c.deviceId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seenIds).toEqual(res.body.items.map((c: { deviceId: string }) => c.deviceId));
    // A subsidiary sees its own; of one tenant with tenantId.
    const own = await as(token.s2).get('/v1/renewal/candidates');
    expect(own.body.items.map((c: { deviceId: string }) => c.deviceId).sort()).toEqual([dev['motor-below'], dev['pump-unknown']].sort());
    const ofS1 = await as(token.group).get(`/v1/renewal/candidates?tenantId=${s1.id}`);
    expect(ofS1.body.items).toHaveLength(3);
  });

  it('answers the indicators of the group, rolled up over its subsidiaries, and of each subsidiary', async () => {
    const g = await indicators(token.group, '?children=true');
    // 7 live devices (mt-gone is decommissioned). Key process: mt-old, mt-new, mt-10y; NC: mt-old, mt-10y.
    // Networked: mt-old, pump-g3, motor-g2, mt-10y (mt-new last sent three days ago).
    // Key energy: pump-g3, motor-g2, motor-below, pump-unknown; at the saving level: motor-g2.
    // Machine tools: mt-old, mt-new, mt-10y; over 10 years: mt-old.
    // Investment: this year 900,000 + 600,000 against 1,000,000 + 200,000 in 2023: +25 %.
    expect(ratios(g)).toEqual({
      devices: 7,
      keyProcessNcRate: [2, 3],
      networkingRate: [4, 7],
      energySavingShare: [1, 4],
      overAgeShare: [1, 3],
      investmentGrowth: [1_500_000, 1_200_000],
    });
    expect(g.ruleVersion).toEqual({ tenantId: null, version: 0 });
    expect(g.indicators.keyProcessNcRate).toEqual({
      numerator: 2,
      denominator: 3,
      value: 2 / 3,
      target: 0.75,
      met: false,
      ruleVersion: g.ruleVersion,
    });
    expect(g.indicators.investmentGrowth).toMatchObject({ value: 0.25, target: 0.25, met: true, year: thisYear, baselineYear: 2023 });
    expect(g.indicators.networkingRate).toMatchObject({ value: 4 / 7, target: null, met: null });
    const children = Object.fromEntries(g.children.map((c: { tenantId: string }) => [c.tenantId, ratios(c as never)]));
    expect(children).toEqual({
      [s1.id]: {
        devices: 4,
        keyProcessNcRate: [1, 2],
        networkingRate: [3, 4],
        energySavingShare: [1, 2],
        overAgeShare: [1, 2],
        investmentGrowth: [900_000, 200_000],
      },
      [s2.id]: {
        devices: 3,
        keyProcessNcRate: [1, 1],
        networkingRate: [1, 3],
        energySavingShare: [0, 2],
        overAgeShare: [0, 1],
        investmentGrowth: [600_000, 0],
      },
    });
    // The same as the subsidiary's own answer.
    expect(ratios(await indicators(token.s1))).toEqual(children[s1.id]);
    expect((await indicators(token.s2)).indicators.investmentGrowth).toMatchObject({ value: null, met: null });
  });

  it('lets the park see its members’ aggregates but none of their devices', async () => {
    const p = await indicators(token.park, '?children=true');
    // m1-mt (NC, key, 12 years, networked), m1-pump (grade 1), m2-compressor (grade 3), m2-mt (key, not NC, 2 years).
    expect(ratios(p)).toEqual({
      devices: 4,
      keyProcessNcRate: [1, 2],
      networkingRate: [1, 4],
      energySavingShare: [1, 2],
      overAgeShare: [1, 2],
      investmentGrowth: [110_000, 100_000],
    });
    expect(p.children.map((c: { tenantId: string; devices: number }) => [c.tenantId, c.devices]).sort()).toEqual(
      [
        [m1.id, 2],
        [m2.id, 2],
      ].sort(),
    );
    const member = await indicators(token.park, `?tenantId=${m1.id}`);
    expect(member.devices).toBe(2);
    // No device list: the park's own candidates are none; a member's read as missing, as do its devices.
    const own = await as(token.park).get('/v1/renewal/candidates');
    expect([own.status, own.body.items, own.body.total]).toEqual([200, [], 0]);
    const ofMember = await as(token.park).get(`/v1/renewal/candidates?tenantId=${m1.id}`);
    expect([ofMember.status, ofMember.headers['content-type']]).toEqual([404, expect.stringContaining('application/problem+json')]);
    const devices = await as(token.park).get(`/v1/devices?tenantId=${m1.id}`);
    expect([devices.status, devices.body.items]).toEqual([200, []]);
    expect((await as(token.park).get(`/v1/renewal/investments?tenantId=${m1.id}`)).status).toBe(404);
    // The member itself sees its own candidates.
    const mine = await as(token.m2).get('/v1/renewal/candidates');
    expect(mine.body.items.map((c: { reasons: { code: string }[] }) => c.reasons.map((r) => r.code))).toEqual([
      ['ENERGY_BELOW_SAVING_LEVEL'],
      ['KEY_PROCESS_NOT_NC', 'KEY_PROCESS_NOT_NETWORKED'],
    ]);
  });

  it('answers 404 for tenants that are not related, as for missing ones', async () => {
    const missing = '00000000-0000-4000-8000-0000000000aa';
    for (const [who, tenantId] of [
      ['s2', s1.id],
      ['m1', park.id],
      ['m1', m2.id],
      ['group', park.id],
      ['park', group.id],
      ['group', missing],
    ] as const) {
      const res = await as(token[who]).get(`/v1/renewal/indicators?tenantId=${tenantId}`);
      expect([who, tenantId, res.status, res.body.code]).toEqual([who, tenantId, 404, 'TENANT_NOT_FOUND']);
    }
    expect((await as(token.s2).get(`/v1/renewal/indicators/history?tenantId=${s1.id}`)).status).toBe(404);
    const rules = (await as(token.s2).get('/v1/renewal/rules')).body.rules;
    expect((await as(token.s2).put(`/v1/renewal/rules?tenantId=${s1.id}`, rules)).status).toBe(404);
    expect((await as(token.park).put(`/v1/renewal/rules?tenantId=${m1.id}`, rules)).status).toBe(404);
    expect((await as(token.park).put(`/v1/renewal/investments/2024`, { amountCny: 1, tenantId: m1.id })).status).toBe(404);
  });

  it('versions the rules per tenant, and each answer names the version it used', async () => {
    const defaults = await as(token.s1).get('/v1/renewal/rules');
    expect(defaults.body).toMatchObject({ tenantId: s1.id, ruleVersion: { tenantId: null, version: 0 }, inherited: true });
    const stricter = { ...defaults.body.rules, overAge: { ...defaults.body.rules.overAge, maxYears: 2 } };
    const v1 = await as(token.s1).put('/v1/renewal/rules', stricter);
    expect([v1.status, v1.body.ruleVersion]).toEqual([200, { tenantId: s1.id, version: 1 }]);
    const s1Now = await indicators(token.s1);
    expect(s1Now.ruleVersion).toEqual({ tenantId: s1.id, version: 1 });
    // mt-new (36 months) is over 2 years now too.
    expect(s1Now.indicators.overAgeShare).toMatchObject({ numerator: 2, denominator: 2, ruleVersion: { tenantId: s1.id, version: 1 } });
    const candidates = await as(token.s1).get('/v1/renewal/candidates');
    expect(candidates.body.ruleVersion).toEqual({ tenantId: s1.id, version: 1 });
    expect(
      candidates.body.items.find((c: { deviceId: string }) => c.deviceId === dev['mt-new']).reasons.map((r: { code: string }) => r.code),
    ).toEqual(['MACHINE_TOOL_OVER_AGE', 'KEY_PROCESS_NOT_NC', 'KEY_PROCESS_NOT_NETWORKED']);
    // The group's own rules are untouched; the group sets its own, which s2 inherits (s1 keeps its own).
    expect((await indicators(token.group)).ruleVersion).toEqual({ tenantId: null, version: 0 });
    const g1 = await as(token.group).put('/v1/renewal/rules', {
      ...defaults.body.rules,
      targets: { ...defaults.body.rules.targets, networkingRate: 0.5 },
    });
    expect(g1.body.ruleVersion).toEqual({ tenantId: group.id, version: 1 });
    const s2Rules = await as(token.s2).get('/v1/renewal/rules');
    expect(s2Rules.body).toMatchObject({ ruleVersion: { tenantId: group.id, version: 1 }, inherited: true });
    expect((await indicators(token.group)).indicators.networkingRate).toMatchObject({ target: 0.5, met: true });
    const v2 = await as(token.s1).put('/v1/renewal/rules', defaults.body.rules);
    expect(v2.body.ruleVersion).toEqual({ tenantId: s1.id, version: 2 });
    expect((await indicators(token.s1)).indicators.overAgeShare).toMatchObject({
      numerator: 1,
      ruleVersion: { tenantId: s1.id, version: 2 },
    });
  });

  it('moves the indicators with every device change, from the read model', async () => {
    // mt-new becomes NC-capable: the group's NC rate goes to 3 of 3 and meets the target.
    const device = await as(token.s1).get(`/v1/devices/${dev['mt-new']}`);
    const patched = await as(token.s1).patch(`/v1/devices/${dev['mt-new']}`, { profile: { ...device.body.profile, ncCapable: true } });
    expect(patched.status).toBe(200);
    expect((await indicators(token.group)).indicators.keyProcessNcRate).toMatchObject({
      numerator: 3,
      denominator: 3,
      value: 1,
      met: true,
    });
    // motor-g2 decommissioned: one device, one networked and one energy-saving fewer.
    expect((await as(token.s1).post(`/v1/devices/${dev['motor-g2']}/lifecycle`, { status: 'decommissioned' })).status).toBe(200);
    expect(ratios(await indicators(token.group))).toMatchObject({ devices: 6, networkingRate: [3, 6], energySavingShare: [0, 3] });
    // mt-new is seen now: networked.
    await seen('mt-new', s1.id, new Date());
    await waitFor(
      async () => ((await indicators(token.group)).indicators.networkingRate.numerator === 4 ? true : undefined),
      20_000,
      'the sighting to be applied',
    );
    const candidates = await as(token.s1).get('/v1/renewal/candidates');
    expect(candidates.body.items.find((c: { deviceId: string }) => c.deviceId === dev['mt-new'])).toBeUndefined();
  });

  it('answers the same over gRPC', async () => {
    const Ctor = makeGenericClientConstructor(RenewalV1.RenewalServiceService, 'RenewalService');
    const client = new Ctor(registry.grpcUrl, credentials.createInsecure()) as unknown as Record<
      string,
      (req: unknown, md: Metadata, cb: (err: ServiceError | null, res?: unknown) => void) => void
    > & { close(): void };
    const call = <T>(method: string, req: object, t: string) =>
      new Promise<T>((resolve, reject) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${t}`);
        client[method](req, md, (err, res) => (err ? reject(err) : resolve(res as T)));
      });
    try {
      const rest = await indicators(token.park);
      const grpc = await call<RenewalV1.IndicatorReport>('getIndicators', { tenantId: '', year: 0, includeChildren: false }, token.park);
      expect(grpc.devices).toBe(rest.devices);
      expect(grpc.keyProcessNcRate).toMatchObject({
        numerator: 1,
        denominator: 2,
        value: 0.5,
        hasValue: true,
        target: 0.75,
        hasTarget: true,
        met: false,
      });
      const list = await call<RenewalV1.ListCandidatesResponse>('listCandidates', { tenantId: '', limit: 0, cursor: '' }, token.group);
      const restList = await as(token.group).get('/v1/renewal/candidates');
      expect(list.candidates.map((c) => [c.deviceId, c.priority, c.reasons.map((r) => r.code)])).toEqual(
        restList.body.items.map((c: { deviceId: string; priority: number; reasons: { code: string }[] }) => [
          c.deviceId,
          c.priority,
          c.reasons.map((r) => r.code),
        ]),
      );
      await expect(call('getIndicators', { tenantId: m1.id, year: 0, includeChildren: false }, token.s1)).rejects.toMatchObject({
        code: 5,
      });
      await expect(call('getIndicators', { tenantId: 'nope', year: 0, includeChildren: false }, token.s1)).rejects.toMatchObject({
        code: 3,
      });
    } finally {
      client.close();
    }
  });

  it('takes one snapshot per tenant and month, for the trend', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const history = await waitFor(
      async () => {
        const res = await as(token.park).get(`/v1/renewal/indicators/history?tenantId=${m1.id}&from=${month}&to=${month}`);
        return res.status === 200 && res.body.items.length === 1 ? res.body : undefined;
      },
      20_000,
      'this month’s snapshot',
    );
    expect(history.items[0]).toMatchObject({ month, report: { tenantId: m1.id, ruleVersion: { tenantId: null, version: 0 } } });
    expect(Object.keys(history.items[0].report.indicators).sort()).toEqual(
      ['energySavingShare', 'investmentGrowth', 'keyProcessNcRate', 'networkingRate', 'overAgeShare'].sort(),
    );
    // The worker keeps polling: still one for the month.
    await new Promise((r) => setTimeout(r, 1000));
    const again = await as(token.group).get('/v1/renewal/indicators/history');
    expect(again.body.items.filter((i: { month: string }) => i.month === month)).toHaveLength(1);
  });

  it('refuses bad input with 400 problem+json naming the field', async () => {
    const cases: [() => request.Test, string][] = [
      [() => as(token.group).put('/v1/renewal/investments/20x3', { amountCny: 1 }), 'year'],
      [() => as(token.group).put('/v1/renewal/investments/1800', { amountCny: 1 }), 'year'],
      [() => as(token.group).put('/v1/renewal/investments/2023', { amountCny: '1.234' }), 'amountCny'],
      [() => as(token.group).put('/v1/renewal/investments/2023', { amountCny: -5 }), 'amountCny'],
      [() => as(token.group).put('/v1/renewal/investments/2023', { amountCny: 1.005 }), 'amountCny'],
      [() => as(token.group).get('/v1/renewal/indicators?tenantId=not-a-uuid'), 'tenantId'],
      [() => as(token.group).get('/v1/renewal/indicators?year=0x7e7'), 'year'],
      [() => as(token.group).get('/v1/renewal/indicators/history?from=2026-13'), 'from'],
      [() => as(token.group).get('/v1/renewal/candidates?cursor=bm9wZQ'), 'cursor'],
      [() => as(token.group).get('/v1/renewal/candidates?sort=age'), 'sort'],
      [
        () => as(token.group).put('/v1/renewal/rules', { overAge: { enabled: true, categories: ['machine-tool'], maxYears: 0 } }),
        'overAge.maxYears',
      ],
      [
        () =>
          as(token.group).post('/v1/devices', {
            name: 'x',
            manufacturer: 'x',
            serial: 'x',
            model: { id: dev['mt-old'] },
            profile: { belowAccessLevel: 'yes' },
          }),
        'profile.belowAccessLevel',
      ],
    ];
    for (const [send, field] of cases) {
      const res = await send();
      expect([field, res.status, res.headers['content-type']]).toEqual([field, 400, expect.stringContaining('application/problem+json')]);
      expect(JSON.stringify(res.body.errors ?? res.body)).toContain(field);
    }
    // Only renewal:write may set rules and investments.
    const reader = (await clientToken(tenancy, token.group, group.id, ['renewal:read'])).token;
    expect((await as(reader).put('/v1/renewal/investments/2024', { amountCny: 1 })).status).toBe(403);
    expect((await as(reader).get('/v1/renewal/indicators')).status).toBe(200);
  });
});
