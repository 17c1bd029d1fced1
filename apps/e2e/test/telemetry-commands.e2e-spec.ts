import type { MqttClient } from 'mqtt';
import request from 'supertest';
import { waitFor } from '@iip/platform-testing';
import { TelemetryWorld, connectDevice, publishQos1, telemetryWorld } from './telemetry-world';

/** Commands (queued while the device is away, acknowledged, answered or timed out), the desired twin on subscription, and device events. */
describe('telemetry: commands, desired twin and events over MQTT', () => {
  let w: TelemetryWorld;
  const clients: MqttClient[] = [];

  const connect = (device: { id: string; secret: string }) => connectDevice(w.telemetry.mqttPort, device, clients);
  /** Messages the client receives, by topic, as parsed JSON. */
  const inbox = (c: MqttClient) => {
    const got: { topic: string; body: Record<string, unknown> }[] = [];
    c.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
    return got;
  };
  const publish = async (c: MqttClient, topic: string, body: unknown) => {
    const ack = await publishQos1(c, topic, body);
    return { code: ack.reasonCode, reason: ack.reasonString };
  };
  const subscribe = (c: MqttClient, topic: string) =>
    new Promise<number>((resolve, reject) =>
      c.subscribe(topic, { qos: 1 }, (err, granted) => (err ? reject(err) : resolve(granted?.[0]?.qos ?? -1))),
    );
  const api = () => request(w.telemetry.httpUrl);
  const command = (deviceId: string, name: string, body: object) =>
    api().post(`/v1/devices/${deviceId}/commands/${name}`).auth(w.token, { type: 'bearer' }).send(body);
  const commandNow = async (deviceId: string, id: string) =>
    (await api().get(`/v1/devices/${deviceId}/commands/${id}`).auth(w.token, { type: 'bearer' })).body as Record<string, unknown>;

  beforeAll(async () => {
    w = await telemetryWorld('telcmd');
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await w?.close();
  });

  it('queues a command for an offline device, delivers it when the device subscribes, and records its answer; a late answer is refused after the timeout', async () => {
    const device = await w.device();
    const bad = await command(device.id, 'setSpeed', { input: { speed: 99_999 } });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(bad.body)).toContain('input.speed');
    expect((await command(device.id, 'explode', {})).status).toBe(400);
    expect((await command('00000000-0000-4000-8000-000000000000', 'setSpeed', {})).status).toBe(404);

    const queued = await command(device.id, 'setSpeed', { input: { speed: 1200 }, timeoutSeconds: 120 });
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ status: 'queued', name: 'setSpeed', input: { speed: 1200 } });

    // The device comes online and subscribes: the queued command arrives; its PUBACK marks it delivered.
    const c = await connect(device);
    const got = inbox(c);
    expect(await subscribe(c, `iip/v1/${device.id}/commands/+`)).toBe(1);
    const first = await waitFor(async () => got.find((m) => m.body.id === queued.body.id), 10_000, 'the queued command');
    expect(first.topic).toBe(`iip/v1/${device.id}/commands/setSpeed`);
    expect(first.body.input).toEqual({ speed: 1200 });
    await waitFor(
      async () => ((await commandNow(device.id, queued.body.id)).status === 'delivered' ? true : undefined),
      10_000,
      'delivered',
    );

    const answer = await publish(c, `iip/v1/${device.id}/commands/setSpeed/response`, {
      id: queued.body.id,
      status: 'succeeded',
      output: { applied: true },
    });
    expect(answer.code).toBe(0);
    expect(await commandNow(device.id, queued.body.id)).toMatchObject({ status: 'succeeded', output: { applied: true } });

    // A command to a connected device goes out at once; unanswered, it times out, and a late answer is refused.
    const live = await command(device.id, 'setSpeed', { input: { speed: 800 }, timeoutSeconds: 2 });
    expect(live.status).toBe(202);
    await waitFor(async () => got.find((m) => m.body.id === live.body.id), 10_000, 'the live command');
    await waitFor(async () => ((await commandNow(device.id, live.body.id)).status === 'timed-out' ? true : undefined), 15_000, 'timed out');
    const late = await publish(c, `iip/v1/${device.id}/commands/setSpeed/response`, { id: live.body.id, status: 'succeeded' });
    expect(late.code).toBe(0x83);
    expect(late.reason).toMatch(/not open/);
    const malformed = await publish(c, `iip/v1/${device.id}/commands/setSpeed/response`, { id: 'nope', status: 'done' });
    expect(malformed.code).toBe(0x99);

    const list = await api().get(`/v1/devices/${device.id}/commands?status=succeeded`).auth(w.token, { type: 'bearer' });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([queued.body.id]);
  });

  it('gives a device its desired twin when it subscribes (changed while it was offline), then each change as it happens', async () => {
    const device = await w.device();
    const desired = (patch: object) =>
      request(w.registry.httpUrl).patch(`/v1/devices/${device.id}/twin/desired`).auth(w.token, { type: 'bearer' }).send(patch);
    expect((await desired({ speed: 1500 })).status).toBe(200);

    const c = await connect(device);
    const got = inbox(c);
    expect(await subscribe(c, `iip/v1/${device.id}/twin/desired`)).toBe(1);
    const onSubscribe = await waitFor(async () => got[0], 10_000, 'the desired twin');
    expect(onSubscribe.body).toMatchObject({ version: 1, desired: { speed: 1500 }, delta: { speed: 1500 } });

    expect((await desired({ mode: 'manual' })).status).toBe(200);
    const change = await waitFor(async () => got.find((m) => m.body.version === 2), 10_000, 'the desired change');
    expect(change.body).toMatchObject({ patch: { mode: 'manual' } });
  });

  it("stores a device's events once each, checked against its model, and lists them", async () => {
    const device = await w.device();
    const c = await connect(device);
    const ts = Date.now() - 5_000;
    const topic = `iip/v1/${device.id}/events`;
    expect((await publish(c, topic, { event: 'overheat', ts, data: { temperature: 131.5 } })).code).toBe(0);
    // The same event again (a device that got no PUBACK sends it again) is stored once.
    expect((await publish(c, topic, { event: 'overheat', ts, data: { temperature: 131.5 } })).code).toBe(0);
    const unknown = await publish(c, topic, { event: 'meltdown', data: {} });
    expect(unknown.code).toBe(0x99);
    expect(unknown.reason).toMatch(/no event meltdown/);
    expect((await publish(c, topic, { event: 'overheat', data: { temperature: 999 } })).code).toBe(0x99);

    const from = new Date(ts - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const list = await api().get(`/v1/devices/${device.id}/events`).query({ from, to }).auth(w.token, { type: 'bearer' });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      { id: expect.any(String), name: 'overheat', level: 'fault', ts: new Date(ts).toISOString(), data: { temperature: 131.5 } },
    ]);
    // Over HTTP too, with the device's own credential.
    const http = await api()
      .post(`/v1/devices/${device.id}/events`)
      .auth(device.id, device.secret)
      .send([{ event: 'overheat', data: { temperature: 120 } }]);
    expect(http.status).toBe(202);
    expect(http.body).toEqual({ accepted: 1, duplicates: 0 });
  });
});
