import { Metadata, ServiceError, credentials, makeGenericClientConstructor, status as GrpcStatus } from '@grpc/grpc-js';
import { Client } from 'pg';
import request from 'supertest';
import { EventEnvelope, MaintenancePredictedData, TelemetryV1, WorkOrderEventData } from '@iip/contracts';
import { TopicProbe, waitFor } from '@iip/platform-testing';
import { clientToken } from '@iip/tenancy-testing';
import { PumpSample, SimulatedPump, simulatePump } from '@iip/telemetry-testing';
import { TELEMETRY_SCOPES, TelemetryWorld, telemetryWorld } from './telemetry-world';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const STEP = 10 * 60_000;

/** A centrifugal pump as its model describes it (vibration velocity RMS, bearing temperature, the operating point). */
const PUMP = {
  properties: {
    vibration: { type: 'float', unit: 'mm/s', min: 0, max: 100, access: 'read-only' },
    bearingTemp: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' },
    flow: { type: 'float', unit: 'm3/h', min: 0, max: 10000, access: 'read-only' },
    head: { type: 'float', unit: 'm', min: 0, max: 1000, access: 'read-only' },
    power: { type: 'float', unit: 'kW', min: 0, max: 10000, access: 'read-only' },
    label: { type: 'string', maxLength: 40, access: 'read-write' },
  },
  events: {},
  commands: {},
};

const PROFILE = {
  properties: { vibration: 'vibration', bearingTemperature: 'bearingTemp', flow: 'flow', head: 'head', power: 'power' },
  machineGroup: 2,
  foundation: 'rigid', // zone C/D at 4.5 mm/s
  bestEfficiencyPoint: { flow: 100, head: 50, power: 18 },
  bearingTemperatureLimits: { warning: 80, alarm: 95 },
};

type Unary = (req: unknown, md: Metadata, cb: (err: ServiceError | null, res?: unknown) => void) => void;

/**
 * Predictive maintenance through the real ingest path: simulated pumps — three whose vibration
 * grows toward zone D with noise, spikes and drop-outs, two healthy — send 20 days of 10-minute
 * history (HTTP batches with past timestamps) ending seven days before each degrading pump's
 * known crossing of the zone C/D boundary. Telemetry is restarted in the middle of it.
 */
describe('telemetry: pump health — ISO 10816-3 zones, Theil–Sen trend, remaining life ±20 %, one work order per pump, events', () => {
  let w: TelemetryWorld;
  let token: string;
  let modelId: string;
  let probe: TopicProbe;
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR; // the last instant sent closes the hour before it
  const crossing = end + 7 * DAY;
  const degrading = (seed: number, base: number, onsetDays: number): SimulatedPump => ({
    seed,
    base,
    degradation: { onsetAt: end - onsetDays * DAY, crossingAt: crossing, limit: 4.5 },
    noise: 0.08,
    outliers: 0.03,
  });
  const pumps: { name: string; sim: SimulatedPump; id?: string }[] = [
    { name: 'worn bearing', sim: degrading(101, 1.2, 30) },
    { name: 'cavitation from a later onset', sim: degrading(102, 1.0, 12) },
    { name: 'misalignment, starting in zone B', sim: degrading(103, 1.8, 22) },
    { name: 'healthy', sim: { seed: 201, base: 1.1, noise: 0.1, outliers: 0.03 } },
    { name: 'healthy, zone B', sim: { seed: 202, base: 2.0, noise: 0.1, outliers: 0.03 } },
  ];

  const api = () => ({
    get: (path: string) => request(w.telemetry.httpUrl).get(path).auth(token, { type: 'bearer' }),
    post: (path: string, body: object) => request(w.telemetry.httpUrl).post(path).auth(token, { type: 'bearer' }).send(body),
    put: (path: string, body: object) => request(w.telemetry.httpUrl).put(path).auth(token, { type: 'bearer' }).send(body),
  });
  const send = async (deviceId: string, samples: PumpSample[]) => {
    const body = samples.map((s) => ({
      ts: s.ts,
      values: { vibration: s.vibration, bearingTemp: s.bearingTemperature, flow: s.flow, head: s.head, power: s.power },
    }));
    const res = await api().post(`/v1/devices/${deviceId}/telemetry`, body);
    expect([res.status, res.body.refused]).toEqual([202, []]);
  };
  const events = (type: string, deviceId?: string) =>
    probe.messages
      .map((m) => JSON.parse(m.value ?? '{}') as EventEnvelope)
      .filter((e) => e.type === type && (deviceId === undefined || e.subject === deviceId));

  beforeAll(async () => {
    w = await telemetryWorld('telmaint');
    token = (await clientToken(w.tenancy, w.op, w.tenantId, [...TELEMETRY_SCOPES, 'maintenance:write'])).token;
    const reg = (path: string, body: object) => request(w.registry.httpUrl).post(path).auth(token, { type: 'bearer' }).send(body);
    const model = await reg('/v1/models', { name: 'Centrifugal pump', definition: PUMP });
    expect(model.status).toBe(201);
    modelId = model.body.id as string;
    expect((await reg(`/v1/models/${modelId}/versions/1/publish`, {})).status).toBeLessThan(300);
    for (const p of pumps) p.id = (await w.device({}, { token, modelId })).id;
    probe = new TopicProbe(w.env.kafkaBrokers, [`${w.env.topicPrefix}iip.telemetry.maintenance.v1`]);
    await probe.start();
  });

  afterAll(async () => {
    await probe?.stop();
    await w?.close();
  });

  it('a profile is checked against the thing model: a 400 problem names each bad field', async () => {
    const bad = async (body: object, field: string) => {
      const res = await api().put(`/v1/maintenance/profiles/${modelId}`, body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.body)).toContain(field);
    };
    await bad({ ...PROFILE, properties: { ...PROFILE.properties, vibration: 'vibe' } }, 'properties.vibration');
    await bad({ ...PROFILE, properties: { ...PROFILE.properties, bearingTemperature: 'label' } }, 'properties.bearingTemperature');
    await bad({ ...PROFILE, properties: { ...PROFILE.properties, power: 'flow', pressure: 'head' } }, 'properties.pressure');
    await bad({ ...PROFILE, bestEfficiencyPoint: undefined }, 'bestEfficiencyPoint');
    await bad({ ...PROFILE, machineGroup: 3 }, 'machineGroup');
    await bad({ ...PROFILE, foundation: 'soft' }, 'foundation');
    await bad({ ...PROFILE, bearingTemperatureLimits: { warning: 90, alarm: 85 } }, 'bearingTemperatureLimits.alarm');
    // The vibration is in the model's unit or one that converts to mm/s; another kind is refused.
    await bad({ ...PROFILE, properties: { ...PROFILE.properties, vibration: 'bearingTemp' } }, 'properties.vibration');
    const unknown = await api().put(`/v1/maintenance/profiles/00000000-0000-4000-8000-000000000000`, PROFILE);
    expect(unknown.status).toBe(404);
    // Without maintenance:write the profile is not put.
    const reader = (await clientToken(w.tenancy, w.op, w.tenantId, ['telemetry:read'])).token;
    const refused = await request(w.telemetry.httpUrl)
      .put(`/v1/maintenance/profiles/${modelId}`)
      .auth(reader, { type: 'bearer' })
      .send(PROFILE);
    expect(refused.status).toBe(403);
  });

  it('20 days of history: each degrading pump is predicted 7 days ± 20 % from its crossing and gets one work order; healthy pumps none', async () => {
    const put = await api().put(`/v1/maintenance/profiles/${modelId}`, PROFILE);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ target: 'model', zoneBoundaries: { ab: 1.4, bc: 2.8, cd: 4.5 }, modelVersion: 1 });
    expect((await api().get(`/v1/maintenance/profiles/${modelId}`)).body.properties).toEqual(PROFILE.properties);

    const histories = new Map(pumps.map((p) => [p.id as string, simulatePump(p.sim, end - 20 * DAY, end + STEP, STEP)]));
    const chunks = (samples: PumpSample[]) =>
      Array.from({ length: Math.ceil(samples.length / 1000) }, (_, i) => samples.slice(i * 1000, (i + 1) * 1000));
    const sendChunks = (from: number, to: number) =>
      Promise.all(
        [...histories].map(async ([id, samples]) => {
          for (const c of chunks(samples).slice(from, to)) await send(id, c);
        }),
      );
    await sendChunks(0, 2);
    // A restart half way: the evaluator's state is in PostgreSQL, so nothing is lost or counted twice.
    await w.restartTelemetry();
    await sendChunks(2, 99);

    const health = new Map<string, Record<string, never>>();
    for (const p of pumps) {
      health.set(
        p.id as string,
        await waitFor(
          async () => {
            const r = await api().get(`/v1/devices/${p.id}/health`);
            return r.status === 200 && r.body.asOf === new Date(end).toISOString() ? r.body : undefined;
          },
          120_000,
          `${p.name}: the health as of the last hour`,
          500,
        ),
      );
    }
    for (const p of pumps) {
      const h = health.get(p.id as string) as Record<string, never>;
      const orders = (await api().get(`/v1/maintenance/work-orders?deviceId=${p.id}`)).body as {
        id: string;
        status: string;
        dueDate: string;
        predictions: number;
      }[];
      if (p.sim.degradation) {
        const truth = (crossing - end) / DAY; // 7 days
        const remaining = h.remainingDays as { estimate: number; low: number; high: number };
        expect([p.name, remaining.estimate]).toEqual([p.name, expect.any(Number)]);
        expect(remaining.estimate).toBeGreaterThanOrEqual(truth * 0.8);
        expect(remaining.estimate).toBeLessThanOrEqual(truth * 1.2);
        expect(remaining.low).toBeLessThan(remaining.estimate);
        expect(remaining.high).toBeGreaterThan(remaining.estimate);
        expect(h.zone).toBe('C');
        expect(h.score).toBeLessThan(75);
        expect((h.trend as { perDay: number }).perDay).toBeGreaterThan(0);
        // One open order, however often the prediction repeated (every hour within the horizon).
        expect(orders.map((o) => o.status)).toEqual(['open']);
        expect(orders[0].predictions).toBeGreaterThan(10);
        expect(h.workOrderId).toBe(orders[0].id);
        expect(new Date(orders[0].dueDate).getTime()).toBeLessThan(crossing);
        expect(new Date(orders[0].dueDate).getTime()).toBeGreaterThan(end);
      } else {
        expect([p.name, orders]).toEqual([p.name, []]);
        expect(h.score).toBeGreaterThan(60);
        expect(h.remainingDays === null || (h.remainingDays as { estimate: number }).estimate > 30).toBe(true);
        expect(h.workOrderId).toBeNull();
      }
    }

    // The events reached Kafka: predictions of the degrading pumps only, one WorkOrderOpened each.
    const degradingIds = pumps.filter((p) => p.sim.degradation).map((p) => p.id as string);
    await waitFor(
      async () => (degradingIds.every((id) => events('MaintenancePredicted', id).length > 0) ? true : undefined),
      30_000,
      'the predictions on Kafka',
    );
    for (const p of pumps) {
      const opened = events('WorkOrderOpened', p.id);
      expect([p.name, opened.length]).toEqual([p.name, p.sim.degradation ? 1 : 0]);
      if (!p.sim.degradation) expect(events('MaintenancePredicted', p.id)).toEqual([]);
    }
    const last = events('MaintenancePredicted', degradingIds[0]).at(-1)?.data as MaintenancePredictedData;
    expect(last).toMatchObject({ deviceId: degradingIds[0], zone: 'C', predictedAt: new Date(end).toISOString() });
    expect(last.remainingDaysLow).toBeLessThan(last.remainingDays);

    // The whole history sent again (a client's re-send): nothing changes, nothing is announced again.
    const predictionsBefore = (await api().get(`/v1/maintenance/work-orders?deviceId=${degradingIds[0]}`)).body[0].predictions as number;
    const eventsBefore = probe.messages.length;
    const evaluationsBefore = (await api().get(`/v1/devices/${degradingIds[0]}/health`)).body.evaluations as number;
    const history = histories.get(degradingIds[0]) as PumpSample[];
    await send(degradingIds[0], history.slice(-1000));
    // Then one new point within the open hour (no hour closes): once the evaluator has seen it, it has passed the re-send.
    const after = end + 30 * 60_000;
    await send(degradingIds[0], [{ ...history[history.length - 1], ts: after }]);
    const pg = new Client({ connectionString: w.env.databaseUrl });
    await pg.connect();
    try {
      await waitFor(
        async () => {
          const { rows } = await pg.query<{ last: Date }>(`SELECT last_ts AS last FROM telemetry.maintenance_states WHERE device_id = $1`, [
            degradingIds[0],
          ]);
          return rows[0]?.last.getTime() === after ? true : undefined;
        },
        30_000,
        'the evaluator past the re-send',
      );
    } finally {
      await pg.end();
    }
    expect((await api().get(`/v1/maintenance/work-orders?deviceId=${degradingIds[0]}`)).body[0].predictions).toBe(predictionsBefore);
    expect((await api().get(`/v1/devices/${degradingIds[0]}/health`)).body.evaluations).toBe(evaluationsBefore);
    expect(probe.messages.length).toBe(eventsBefore);
  }, 240_000);

  it('health and work orders over gRPC; closing an order announces WorkOrderClosed with its outcome, once', async () => {
    const degradingId = pumps[0].id as string;
    const Ctor = makeGenericClientConstructor(TelemetryV1.MaintenanceServiceService, 'MaintenanceService');
    const client = new Ctor(w.telemetry.grpcUrl, credentials.createInsecure()) as unknown as Record<string, Unary> & { close(): void };
    const call = <T>(method: string, req: unknown) =>
      new Promise<T>((resolve, reject) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${token}`);
        client[method](req, md, (err, res) => (err ? reject(err) : resolve(res as T)));
      });
    try {
      const h = await call<TelemetryV1.DeviceHealth>('getHealth', { deviceId: degradingId });
      expect(h).toMatchObject({ deviceId: degradingId, zone: 'C', hasTrend: true, hasRemaining: true, asOf: new Date(end).toISOString() });
      const listed = await call<TelemetryV1.ListWorkOrdersResponse>('listWorkOrders', { status: 'open', deviceId: '', limit: 0 });
      expect(listed.workOrders.map((o) => o.deviceId).sort()).toEqual(
        pumps
          .filter((p) => p.sim.degradation)
          .map((p) => p.id)
          .sort(),
      );
      await expect(call('getHealth', { deviceId: 'nope' })).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
      await expect(call('getHealth', { deviceId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({
        code: GrpcStatus.NOT_FOUND,
      });
    } finally {
      client.close();
    }

    const [order] = (await api().get(`/v1/maintenance/work-orders?deviceId=${degradingId}`)).body as { id: string }[];
    expect((await api().get(`/v1/maintenance/work-orders/${order.id}`)).body).toMatchObject({ id: order.id, status: 'open' });
    const bad = await api().post(`/v1/maintenance/work-orders/${order.id}/close`, { outcome: 'broken' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('outcome');
    const closed = await api().post(`/v1/maintenance/work-orders/${order.id}/close`, { outcome: 'failure', notes: 'outer race spalled' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', outcome: 'failure', notes: 'outer race spalled', version: expect.any(Number) });
    expect((await api().post(`/v1/maintenance/work-orders/${order.id}/close`, { outcome: 'no-fault' })).status).toBe(409);
    const announced = await waitFor(
      async () => {
        const e = events('WorkOrderClosed', degradingId);
        return e.length > 0 ? e : undefined;
      },
      20_000,
      'WorkOrderClosed on Kafka',
    );
    expect(announced).toHaveLength(1);
    expect(announced[0].data as WorkOrderEventData).toMatchObject({ id: order.id, status: 'closed', outcome: 'failure' });
    expect((await api().get(`/v1/maintenance/work-orders?deviceId=${degradingId}&status=open`)).body).toEqual([]);
    expect((await api().get(`/v1/maintenance/work-orders/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });
});
