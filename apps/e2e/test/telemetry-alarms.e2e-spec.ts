import { Client } from 'pg';
import request from 'supertest';
import { waitFor } from '@iip/platform-testing';
import { TelemetryWorld, telemetryWorld } from './telemetry-world';

/** Rules and ISA-18.2 alarms over stored points, through a restart of telemetry. */
describe('telemetry: rules raise one alarm, acknowledge, clear past the hysteresis, no-data alarms, restart-safe', () => {
  let w: TelemetryWorld;
  let pg: Client;

  const api = () => ({
    get: (path: string) => request(w.telemetry.httpUrl).get(path).auth(w.token, { type: 'bearer' }),
    post: (path: string, body: object) => request(w.telemetry.httpUrl).post(path).auth(w.token, { type: 'bearer' }).send(body),
  });
  const storedCount = async (deviceId: string) =>
    Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM telemetry.points WHERE device_id = $1`, [deviceId])).rows[0].n);
  /** Sends points and waits until they are stored (and so evaluated: rules run in the writer's transaction). */
  const send = async (deviceId: string, pts: { ts: number; values: Record<string, number> }[]) => {
    const before = await storedCount(deviceId);
    expect((await api().post(`/v1/devices/${deviceId}/telemetry`, pts)).status).toBe(202);
    await waitFor(async () => ((await storedCount(deviceId)) >= before + pts.length ? true : undefined), 20_000, 'the points to be stored');
  };
  const alarmsOf = async (deviceId: string) =>
    (await api().get(`/v1/alarms?deviceId=${deviceId}`)).body as { id: string; state: string; message: string }[];

  beforeAll(async () => {
    w = await telemetryWorld('telalarms');
    pg = new Client({ connectionString: w.env.databaseUrl });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await w?.close();
  });

  it('a threshold held for its duration raises one alarm; acknowledged, it clears only past the hysteresis, also across a restart', async () => {
    const device = await w.device();
    const rule = await api().post('/v1/rules', {
      name: 'Overheating',
      deviceId: device.id,
      property: 'temperature',
      kind: 'threshold',
      severity: 'high',
      threshold: { op: '>', value: 80, forSeconds: 10, hysteresis: 5 },
    });
    expect(rule.status).toBe(201);
    const t0 = Date.now() - 120_000;
    await send(device.id, [
      { ts: t0, values: { temperature: 85 } },
      { ts: t0 + 5_000, values: { temperature: 86 } },
    ]);
    expect(await alarmsOf(device.id)).toEqual([]); // held 5 s of 10
    await send(device.id, [
      { ts: t0 + 11_000, values: { temperature: 87 } },
      { ts: t0 + 12_000, values: { temperature: 95 } },
    ]);
    const [raised, ...more] = await alarmsOf(device.id);
    expect(more).toEqual([]);
    expect(raised).toMatchObject({ state: 'active-unacknowledged', message: 'temperature > 80 for 10 s (value 87)', severity: 'high' });

    const acked = await api().post(`/v1/alarms/${raised.id}/acknowledge`, {});
    expect(acked.body.state).toBe('active-acknowledged');
    expect((await api().post(`/v1/alarms/${raised.id}/acknowledge`, {})).status).toBe(409);

    await w.restartTelemetry();
    // Below the threshold but not past the hysteresis: still active. The same points again (a resend): nothing changes.
    await send(device.id, [{ ts: t0 + 20_000, values: { temperature: 78 } }]);
    expect((await api().post(`/v1/devices/${device.id}/telemetry`, [{ ts: t0 + 11_000, values: { temperature: 87 } }])).status).toBe(202);
    expect((await alarmsOf(device.id)).map((a) => a.state)).toEqual(['active-acknowledged']);
    await send(device.id, [
      { ts: t0 + 25_000, values: { temperature: 74 } },
      { ts: t0 + 30_000, values: { temperature: 99 } },
    ]);
    // Cleared at 74; 99 starts a new holding period (not 10 s yet): still one alarm.
    const after = await alarmsOf(device.id);
    expect(after.map((a) => [a.id, a.state])).toEqual([[raised.id, 'cleared']]);
    const { rows } = await pg.query(`SELECT count(*)::int AS n FROM telemetry.outbox WHERE topic LIKE '%iip.telemetry.alarm.v1'`);
    expect(rows[0].n).toBe(3); // raised, acknowledged, cleared
  });

  it('a device that falls silent raises one no-data alarm, cleared (unacknowledged) when it speaks again', async () => {
    const device = await w.device();
    expect(
      (
        await api().post('/v1/rules', {
          name: 'Silent',
          deviceId: device.id,
          property: 'temperature',
          kind: 'no-data',
          severity: 'medium',
          noData: { seconds: 2 },
        })
      ).status,
    ).toBe(201);
    await send(device.id, [{ ts: Date.now(), values: { temperature: 20 } }]);
    const raised = await waitFor(
      async () => {
        const a = await alarmsOf(device.id);
        return a.length > 0 ? a : undefined;
      },
      15_000,
      'the no-data alarm',
      250,
    );
    expect(raised).toEqual([expect.objectContaining({ state: 'active-unacknowledged', message: 'no temperature for 2 s' })]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await alarmsOf(device.id)).toHaveLength(1);
    await send(device.id, [{ ts: Date.now(), values: { temperature: 21 } }]);
    expect((await alarmsOf(device.id)).map((a) => a.state)).toEqual(['cleared-unacknowledged']);
  });
});
