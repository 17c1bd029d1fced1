import mqtt, { MqttClient } from 'mqtt';
import { Client } from 'pg';
import request from 'supertest';
import { TopicProbe, waitFor } from '@iip/platform-testing';
import { TelemetryWorld, publishQos1, telemetryWorld } from './telemetry-world';

/** MQTT 5 / 3.1.1 clients of the telemetry endpoint, the HTTP batch endpoint, and the queries over what they stored. */
describe('telemetry: ingestion over MQTT and HTTP, stored once, queried back', () => {
  let w: TelemetryWorld;
  let pg: Client;
  const clients: MqttClient[] = [];

  const connect = (device: { id: string; secret: string }, protocolVersion: 4 | 5 = 5) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${w.telemetry.mqttPort}`, {
        protocolVersion,
        username: device.id,
        password: device.secret,
        clientId: `${device.id}-${clients.length}`,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  const publish = publishQos1;
  const stored = async (deviceId: string, property?: string) =>
    (
      await pg.query<{ property: string; ts: Date; num: number | null; bool: boolean | null }>(
        `SELECT property, ts, num, bool FROM telemetry.points WHERE device_id = $1 AND ($2::text IS NULL OR property = $2) ORDER BY ts, property`,
        [deviceId, property ?? null],
      )
    ).rows;

  beforeAll(async () => {
    w = await telemetryWorld('telingest');
    pg = new Client({ connectionString: w.env.databaseUrl });
    await pg.connect();
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await pg?.end();
    await w?.close();
  });

  it('acknowledges a QoS 1 publish once Kafka holds it and stores each point once; an out-of-range value is refused with its reason, the rest stored', async () => {
    const device = await w.device();
    const c = await connect(device);
    const t0 = Date.UTC(2026, 11, 3, 0, 0, 0) + Math.floor((Date.now() - Date.UTC(2026, 11, 3)) / 60_000) * 60_000 - 3_600_000;
    const ack = await publish(c, `iip/v1/${device.id}/telemetry`, [
      { ts: t0, values: { temperature: 20.5, running: true } },
      { ts: t0 + 1000, values: { temperature: 250, speed: 1200 } },
      { ts: new Date(t0 + 2000).toISOString(), values: { temperature: 70, units: undefined } },
      { ts: t0 + 3000, values: { temperature: 212 }, units: { temperature: '[degF]' } },
    ]);
    expect(ack.reasonCode).toBe(0);
    expect(ack.reasonString).toMatch(/1 values refused: #1 temperature: values.temperature must be <= 200/);
    // The same message again (a client's resend): nothing is stored twice.
    expect((await publish(c, `iip/v1/${device.id}/telemetry`, { ts: t0, values: { temperature: 20.5 } })).reasonCode).toBe(0);
    const rows = await waitFor(
      async () => {
        const r = await stored(device.id);
        return r.length >= 5 ? r : undefined;
      },
      15_000,
      'the points to be stored',
    );
    expect(rows.map((r) => [r.property, r.ts.getTime() - t0, r.num ?? r.bool])).toEqual([
      ['running', 0, true],
      ['temperature', 0, 20.5],
      ['speed', 1000, 1200],
      ['temperature', 2000, 70],
      ['temperature', 3000, expect.closeTo(100, 6)],
    ]);
    const latest = await request(w.telemetry.httpUrl).get(`/v1/devices/${device.id}/telemetry/latest`).auth(w.token, { type: 'bearer' });
    expect(latest.body.values.temperature).toEqual({ ts: new Date(t0 + 3000).toISOString(), value: expect.closeTo(100, 6) });
  });

  it("refuses a device publishing on another device's topic (MQTT 5: 0x87; 3.1.1: the connection is closed) and a wrong secret at CONNECT", async () => {
    const [a, b] = [await w.device(), await w.device()];
    const c5 = await connect(a, 5);
    const refused = await publish(c5, `iip/v1/${b.id}/telemetry`, { values: { temperature: 1 } });
    expect(refused.reasonCode).toBe(0x87);
    const c4 = await connect(a, 4);
    const closed = new Promise<void>((resolve) => c4.once('close', () => resolve()));
    c4.publish(`iip/v1/${b.id}/telemetry`, JSON.stringify({ values: { temperature: 1 } }), { qos: 1 });
    await closed;
    await expect(connect({ id: a.id, secret: `${a.secret}x` })).rejects.toMatchObject({ code: 0x86 });
    expect(await stored(b.id)).toEqual([]);
  });

  it("passes a device's reported twin to the registry, which checks it against the model (MQTT 5: 0x99 for a value out of range)", async () => {
    const device = await w.device();
    const c = await connect(device);
    expect((await publish(c, `iip/v1/${device.id}/twin/reported`, { temperature: 30, mode: 'auto' })).reasonCode).toBe(0);
    const twin = await request(w.registry.httpUrl).get(`/v1/devices/${device.id}/twin`).auth(w.token, { type: 'bearer' });
    expect(twin.body.reported.document).toEqual({ temperature: 30, mode: 'auto' });
    const bad = await publish(c, `iip/v1/${device.id}/twin/reported`, { temperature: 500 });
    expect(bad.reasonCode).toBe(0x99);
  });

  it('takes HTTP batches from a device (Basic) and a client (bearer): 202 once in Kafka, reasons per refused value, 404 for a device the caller does not manage', async () => {
    const device = await w.device();
    const now = Date.now();
    const res = await request(w.telemetry.httpUrl)
      .post(`/v1/devices/${device.id}/telemetry`)
      .auth(device.id, device.secret)
      .send([
        { ts: now - 2000, values: { temperature: 30, mode: 'auto' } },
        { ts: now - 1000, values: { mode: 'turbo', nonsense: 1 } },
      ]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      accepted: 2,
      refused: [
        { index: 1, property: 'nonsense', reason: "nonsense is not a property of the device's thing model" },
        { index: 1, property: 'mode', reason: expect.stringContaining('values.mode must be equal to one of the allowed values') },
      ],
    });
    const bearer = await request(w.telemetry.httpUrl)
      .post(`/v1/devices/${device.id}/telemetry`)
      .auth(w.token, { type: 'bearer' })
      .send({ values: { speed: 10 } });
    expect(bearer.status).toBe(202);
    const none = await request(w.telemetry.httpUrl)
      .post(`/v1/devices/${device.id}/telemetry`)
      .auth(w.token, { type: 'bearer' })
      .send({ values: { speed: -1 } });
    expect(none.status).toBe(400);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.body.details.refused[0]).toMatchObject({ index: 0, property: 'speed' });
    const other = await w.device();
    const wrong = await request(w.telemetry.httpUrl)
      .post(`/v1/devices/${other.id}/telemetry`)
      .auth(device.id, device.secret)
      .send({ values: { speed: 1 } });
    expect(wrong.status).toBe(404);
    await waitFor(async () => ((await stored(device.id)).length === 3 ? true : undefined), 15_000, 'three points stored');
    // The device is announced as networked (once this hour, however often it sends), for the registry's networking rate.
    const activity = new TopicProbe(w.env.kafkaBrokers, [`${w.env.topicPrefix}iip.telemetry.activity.v1`]);
    await activity.start();
    try {
      const seen = await waitFor(
        async () =>
          activity.messages.find((m) => (JSON.parse(m.value ?? '{}') as { data?: { deviceId?: string } }).data?.deviceId === device.id),
        15_000,
        'DeviceSeen',
      );
      expect(JSON.parse(seen.value ?? '{}')).toMatchObject({ type: 'DeviceSeen', data: { deviceId: device.id, tenantId: w.tenantId } });
      expect(activity.messages.filter((m) => m.key === device.id)).toHaveLength(1);
    } finally {
      await activity.stop();
    }
  });

  it('takes the largest request allowed (10,000 instants, 40,000 values) though it is larger than one Kafka message may be', async () => {
    const device = await w.device();
    const t0 = Date.now() - 3_600_000;
    const body = Array.from({ length: 10_000 }, (_, i) => ({
      ts: t0 + i * 100,
      values: { temperature: (i % 2000) / 10, speed: i % 3600, running: i % 2 === 0, mode: i % 3 === 0 ? 'auto' : 'manual' },
    }));
    const res = await request(w.telemetry.httpUrl).post(`/v1/devices/${device.id}/telemetry`).auth(w.token, { type: 'bearer' }).send(body);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 40_000, refused: [] });
    await waitFor(async () => ((await stored(device.id)).length === 40_000 ? true : undefined), 30_000, 'all 40,000 stored');
  });

  it('answers 1-minute and 1-hour aggregates from the rollups exactly as computed over the raw rows, and pages raw points', async () => {
    const device = await w.device();
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
    const points = Array.from({ length: 600 }, (_, i) => ({
      ts: hour + i * 17_000 + (i % 7) * 13,
      values: { temperature: Math.round(Math.sin(i / 10) * 5000) / 100 + 40 },
    }));
    for (let i = 0; i < points.length; i += 200) {
      const res = await request(w.telemetry.httpUrl)
        .post(`/v1/devices/${device.id}/telemetry`)
        .auth(w.token, { type: 'bearer' })
        .send(points.slice(i, i + 200));
      expect(res.status).toBe(202);
    }
    await waitFor(async () => ((await stored(device.id)).length === 600 ? true : undefined), 20_000, 'all points stored');
    const from = new Date(hour).toISOString();
    const to = new Date(hour + 3 * 3_600_000).toISOString();
    for (const [bucket, width] of [
      ['1m', '1 minute'],
      ['15m', '15 minutes'],
      ['1h', '1 hour'],
    ]) {
      const res = await request(w.telemetry.httpUrl)
        .get(`/v1/devices/${device.id}/telemetry/aggregate`)
        .query({ property: 'temperature', from, to, bucket })
        .auth(w.token, { type: 'bearer' });
      expect(res.status).toBe(200);
      const direct = await pg.query<{ b: Date; count: string; min: number; max: number; sum: number; first: number; last: number }>(
        `SELECT date_bin($2::interval, ts, '2000-01-01T00:00:00+08:00') AS b, count(*), min(num), max(num), sum(num),
                (array_agg(num ORDER BY ts))[1] AS first, (array_agg(num ORDER BY ts DESC))[1] AS last
           FROM telemetry.points WHERE device_id = $1 AND property = 'temperature' AND ts >= $3 AND ts < $4 GROUP BY 1 ORDER BY 1`,
        [device.id, width, from, to],
      );
      expect(res.body.buckets).toHaveLength(direct.rows.length);
      res.body.buckets.forEach((b: Record<string, number | string>, i: number) => {
        const d = direct.rows[i];
        expect(b.bucket).toBe(d.b.toISOString());
        expect(b).toMatchObject({ count: Number(d.count), min: d.min, max: d.max, first: d.first, last: d.last });
        expect(b.sum).toBeCloseTo(d.sum, 6);
      });
    }
    const unaligned = await request(w.telemetry.httpUrl)
      .get(`/v1/devices/${device.id}/telemetry/aggregate`)
      .query({ property: 'temperature', from: new Date(hour + 60_000).toISOString(), to, bucket: '1h' })
      .auth(w.token, { type: 'bearer' });
    expect(unaligned.status).toBe(400);
    expect(unaligned.body.errors[0]).toMatchObject({ field: 'bucket', message: expect.stringContaining('from must lie on a 1h boundary') });

    const first = await request(w.telemetry.httpUrl)
      .get(`/v1/devices/${device.id}/telemetry`)
      .query({ property: 'temperature', from, to, limit: 500 })
      .auth(w.token, { type: 'bearer' });
    const second = await request(w.telemetry.httpUrl)
      .get(`/v1/devices/${device.id}/telemetry`)
      .query({ property: 'temperature', from, to, limit: 500, cursor: first.body.nextCursor })
      .auth(w.token, { type: 'bearer' });
    expect([first.body.items.length, second.body.items.length, second.body.nextCursor]).toEqual([500, 100, null]);
    const csv = await request(w.telemetry.httpUrl)
      .get(`/v1/devices/${device.id}/telemetry/export`)
      .query({ property: 'temperature', from, to })
      .auth(w.token, { type: 'bearer' });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.trim().split('\n')).toHaveLength(601);
  });
});
