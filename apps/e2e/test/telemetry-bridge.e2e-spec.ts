import { randomBytes } from 'node:crypto';
import mqtt, { MqttClient } from 'mqtt';
import { Client } from 'pg';
import { TopicProbe, waitFor } from '@iip/platform-testing';
import { TelemetryWorld, telemetryWorld } from './telemetry-world';

/** The site broker: the Mosquitto every machine of ours runs (existing gateways publish into it). */
const SITE_BROKER = process.env.IIP_SITE_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/**
 * The edge bridge against a real site broker: a gateway that only knows its own broker publishes
 * QoS 1 there; telemetry takes it over a persistent session and PUBACKs only once Kafka holds
 * the points — so what is published while telemetry is down arrives after it is back, once.
 */
describe('telemetry: edge bridge from a site broker', () => {
  let w: TelemetryWorld;
  let pg: Client;
  let gateway: MqttClient;
  let dlq: TopicProbe;
  const site = `site-${randomBytes(4).toString('hex')}`;
  let bridgeEnv: Record<string, string> = {};

  const stored = async (deviceId: string) =>
    (
      await pg.query<{ property: string; ts: Date; num: number }>(
        `SELECT property, ts, num FROM telemetry.points WHERE device_id = $1 ORDER BY ts, property`,
        [deviceId],
      )
    ).rows;
  const publish = (topic: string, body: unknown) =>
    new Promise<void>((resolve, reject) =>
      gateway.publish(topic, JSON.stringify(body), { qos: 1 }, (err) => (err ? reject(err) : resolve())),
    );

  beforeAll(async () => {
    w = await telemetryWorld('telbridge');
    pg = new Client({ connectionString: w.env.databaseUrl });
    await pg.connect();
    dlq = new TopicProbe(w.env.kafkaBrokers, [`${w.env.topicPrefix}iip.telemetry.bridge.v1.dlq`]);
    const bridges = [
      {
        name: 'plant-7',
        url: SITE_BROKER,
        clientId: `iip-bridge-${site}`,
        tenantId: w.tenantId,
        mappings: [
          { topic: `${site}/+/data`, device: 'serial:{1}' },
          { topic: `${site}/+/+/value`, device: 'serial:{1}', property: '{2}' },
        ],
      },
    ];
    bridgeEnv = { TELEMETRY_BRIDGES: JSON.stringify(bridges) };
    await w.restartTelemetry(bridgeEnv);
    gateway = await new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(SITE_BROKER, { clientId: `gw-${site}`, reconnectPeriod: 0 });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  });

  afterAll(async () => {
    gateway?.end(true);
    await dlq?.stop();
    await pg?.end();
    await w?.close();
    // The bridge's persistent session on the shared site broker goes with the test.
    await new Promise<void>((resolve) => {
      const c = mqtt.connect(SITE_BROKER, { clientId: `iip-bridge-${site}`, clean: true, protocolVersion: 5, reconnectPeriod: 0 });
      c.once('connect', () => c.end(false, {}, () => resolve()));
      c.once('error', () => resolve());
    });
  });

  it('stores what a gateway publishes to the site broker, mapped by serial number, also single values per topic', async () => {
    const serial = `KSB-${site}-1`;
    const device = await w.device({ serial });
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 20; i++)
      await publish(`${site}/${serial}/data`, { ts: t0 + i * 1000, values: { temperature: 20 + i, speed: 1000 + i } });
    await publish(`${site}/${serial}/temperature/value`, { ts: t0 + 30_000, value: 55.5 });
    await publish(`${site}/${serial}/speed/value`, 1450);
    const rows = await waitFor(
      async () => {
        const r = await stored(device.id);
        return r.length >= 42 ? r : undefined;
      },
      20_000,
      'the bridged points',
    );
    expect(rows).toHaveLength(42);
    expect(rows.filter((r) => r.property === 'temperature').map((r) => r.num)).toEqual([
      ...Array.from({ length: 20 }, (_, i) => 20 + i),
      55.5,
    ]);
  });

  it('takes what was published while telemetry was down once it is back, each point once; what can never be taken goes to the dead-letter topic', async () => {
    const serial = `KSB-${site}-2`;
    const device = await w.device({ serial });
    const t0 = Date.now() - 120_000;
    // Half while the bridge runs, half while telemetry is stopped: the site broker keeps those for the bridge's session.
    for (let i = 0; i < 25; i++) await publish(`${site}/${serial}/data`, { ts: t0 + i * 1000, values: { speed: i } });
    await w.stopTelemetry();
    for (let i = 25; i < 50; i++) await publish(`${site}/${serial}/data`, { ts: t0 + i * 1000, values: { speed: i } });
    await publish(`${site}/no-such-serial/data`, { values: { speed: 1 } });
    await publish(`${site}/${serial}/data`, { values: { speed: 99_999 } });
    await w.restartTelemetry(bridgeEnv);
    const rows = await waitFor(
      async () => {
        const r = await stored(device.id);
        return r.length >= 50 ? r : undefined;
      },
      30_000,
      'the points published while telemetry was down',
    );
    await dlq.start();
    const dead = await waitFor(async () => (dlq.messages.length >= 2 ? dlq.messages : undefined), 20_000, 'the dead letters');
    // Each point once: nothing lost, nothing twice.
    expect(rows.map((r) => r.num)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(dead.map((m) => m.headers['x-bridge-topic']).sort()).toEqual([`${site}/${serial}/data`, `${site}/no-such-serial/data`].sort());
    expect(dead.find((m) => m.headers['x-bridge-topic'].includes('no-such-serial'))?.headers['x-dlq-error']).toMatch(/no device/);
    expect(dead.find((m) => m.headers['x-bridge-topic'] === `${site}/${serial}/data`)?.headers['x-dlq-error']).toMatch(/thing model/);
  });
});
