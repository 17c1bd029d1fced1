import { ChildProcess, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import { Client } from 'pg';
import request from 'supertest';
import { resolveGrpcPort } from '@iip/platform-grpc';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, startServiceProcess, waitFor } from '@iip/platform-testing';
import { OPERATOR, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { startTestDeviceRegistry } from '@iip/device-registry-testing';
import { PUMP_MODEL, TELEMETRY_SCOPES } from './telemetry-world';

const ROOT = join(__dirname, '../../..');
/** The site broker the edge bridge takes a gateway's telemetry from. */
const SITE_BROKER = process.env.IIP_SITE_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Runs a command of the machine's, failing the test when it fails. */
function sh(command: string, args: string[]): void {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}`);
}

/**
 * A device publishing QoS 1 through faults, as they happen in a plant: telemetry killed with
 * SIGKILL and started again, the Kafka broker stopped and started, PostgreSQL restarted. A real
 * MQTT client (mqtt.js) resends what was never acknowledged; at the end every point it sent —
 * acknowledged before a fault or resent after — is stored, each exactly once.
 */
describe('telemetry: nothing acknowledged is lost, nothing is stored twice, through kill, Kafka and PostgreSQL restarts', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let registry: ServiceRuntime;
  let telemetry: { child: ChildProcess; url: string } | undefined;
  let mqttPort: number;
  let client: MqttClient | undefined;
  let gateway: MqttClient | undefined;
  let pg: Client;
  let device: { id: string; secret: string };
  /** A device behind a site gateway: its points come through the site broker and the edge bridge. */
  let bridged: { id: string; serial: string };
  let tenantId: string;
  const site = `fsite-${randomBytes(4).toString('hex')}`;

  const startTelemetry = () =>
    startServiceProcess(
      join(ROOT, 'dist/apps/telemetry/src/main.js'),
      'telemetry',
      env.env({
        TELEMETRY_HOST: '127.0.0.1',
        TELEMETRY_HTTP_PORT: '0',
        TELEMETRY_GRPC_PORT: '0',
        TELEMETRY_MQTT_PORT: String(mqttPort),
        AUTH_JWKS_URL: `${tenancy.httpUrl}/.well-known/jwks.json`,
        TELEMETRY_TOKEN_URL: `${tenancy.httpUrl}/oauth/token`,
        TELEMETRY_CLIENT_ID: OPERATOR.clientId,
        TELEMETRY_CLIENT_SECRET: OPERATOR.secret,
        TELEMETRY_DEVICE_REGISTRY_GRPC_URL: registry.grpcUrl,
        TELEMETRY_POINTS_PARTITIONS: '4',
        TELEMETRY_BRIDGES: JSON.stringify([
          {
            name: 'faults',
            url: SITE_BROKER,
            clientId: `iip-bridge-${site}`,
            tenantId,
            mappings: [{ topic: `${site}/+/data`, device: 'serial:{1}' }],
          },
        ]),
        LOG_LEVEL: 'info',
      }),
    );

  beforeAll(async () => {
    env = await createTestEnvironment('telfaults');
    tenancy = await startTestTenancy(env);
    registry = await startTestDeviceRegistry(env, tenancy.httpUrl);
    mqttPort = await resolveGrpcPort('127.0.0.1', 0);
    sh(process.execPath, ['-e', "import('./scripts/build.mjs').then((m) => m.build())"]);
    const op = await operatorToken(tenancy);
    const group = await createTenant(tenancy, op, { kind: 'group', quotas: { maxDevices: 100, maxTelemetryPointsPerSecond: 100_000 } });
    tenantId = group.id;
    const token = (await clientToken(tenancy, op, group.id, TELEMETRY_SCOPES)).token;
    const post = (path: string, body: object) => request(registry.httpUrl).post(path).auth(token, { type: 'bearer' }).send(body);
    const model = await waitFor(
      async () => {
        const res = await post('/v1/models', { name: 'Pump', definition: PUMP_MODEL });
        return res.status === 201 ? res : undefined;
      },
      20_000,
      'the registry to know the group',
    );
    await post(`/v1/models/${model.body.id}/versions/1/publish`, {});
    const d = await post('/v1/devices', { name: 'P', manufacturer: 'KSB', serial: 'F-1', model: { id: model.body.id } });
    const c = await post(`/v1/devices/${d.body.id}/credentials`, { kind: 'secret', label: 'faults' });
    device = { id: d.body.id, secret: c.body.secret };
    const serial = `${site}-2`;
    const b = await post('/v1/devices', { name: 'P2', manufacturer: 'KSB', serial, model: { id: model.body.id } });
    bridged = { id: b.body.id, serial };
    telemetry = await startTelemetry();
    pg = new Client({ connectionString: env.databaseUrl });
    await pg.connect();
    pg.on('error', () => undefined); // the restart below ends this connection; it is reopened
  });

  afterAll(async () => {
    client?.end(true);
    gateway?.end(true);
    if (telemetry && telemetry.child.exitCode === null) {
      telemetry.child.kill('SIGTERM');
      await once(telemetry.child, 'exit');
    }
    await pg?.end().catch(() => undefined);
    await registry?.close();
    await tenancy?.close();
    await env?.cleanup();
    // The bridge's persistent session on the shared site broker goes with the test.
    await new Promise<void>((resolve) => {
      const c = mqtt.connect(SITE_BROKER, { clientId: `iip-bridge-${site}`, clean: true, protocolVersion: 5, reconnectPeriod: 0 });
      c.once('connect', () => c.end(false, {}, () => resolve()));
      c.once('error', () => resolve());
    });
  });

  it('stores every point the device sent exactly once', async () => {
    client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
      protocolVersion: 5,
      username: device.id,
      password: device.secret,
      clientId: `faults-${device.id}`,
      reconnectPeriod: 250,
      // A device keeps trying through "server unavailable" (the registry's database restarting).
      reconnectOnConnackError: true,
      connectTimeout: 5000,
    });
    client.on('error', () => undefined);
    await waitFor(
      async () => (client?.connected ? true : undefined),
      30_000,
      'the device to connect (telemetry must have heard of it)',
      200,
    );

    const t0 = Date.now() - 600_000;
    let sent = 0;
    const acked = new Set<number>();
    const refused: string[] = [];
    let publishing = true;
    // One point per message, 100 messages a second, each waiting for nothing: mqtt.js keeps the unacknowledged ones and resends them.
    const publisher = (async () => {
      while (publishing) {
        const i = sent++;
        client?.publish(
          `iip/v1/${device.id}/telemetry`,
          JSON.stringify({ ts: t0 + i * 10, values: { temperature: i % 150 } }),
          { qos: 1 },
          (err) => {
            if (!err) acked.add(i);
            else refused.push(`${i}: ${err.message}`);
          },
        );
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Beside it, a gateway that only knows its site broker: 50 points a second, each acknowledged by the site broker.
    gateway = mqtt.connect(SITE_BROKER, { clientId: `gw-${site}`, reconnectPeriod: 250 });
    gateway.on('error', () => undefined);
    await waitFor(async () => (gateway?.connected ? true : undefined), 10_000, 'the gateway to connect to the site broker', 100);
    let gatewaySent = 0;
    const gatewayAcked = new Set<number>();
    const gatewayPublisher = (async () => {
      while (publishing) {
        const i = gatewaySent++;
        gateway?.publish(
          `${site}/${bridged.serial}/data`,
          JSON.stringify({ ts: t0 + i * 20, values: { temperature: i % 150 } }),
          { qos: 1 },
          (err) => {
            if (!err) gatewayAcked.add(i);
          },
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const ackedBy = (n: number, what: string) => waitFor(async () => (acked.size >= n ? true : undefined), 60_000, what, 100);

    await ackedBy(200, 'points acknowledged before the first fault');
    const storedRows = async (deviceId = device.id) => {
      for (;;) {
        try {
          const { rows } = await pg.query<{ n: string; distinct_ts: string }>(
            `SELECT count(*) AS n, count(DISTINCT ts) AS distinct_ts FROM telemetry.points WHERE device_id = $1`,
            [deviceId],
          );
          return { n: Number(rows[0].n), distinct: Number(rows[0].distinct_ts) };
        } catch {
          await pg.end().catch(() => undefined);
          pg = new Client({ connectionString: env.databaseUrl });
          pg.on('error', () => undefined);
          await pg.connect().catch(() => undefined);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    };

    // 1. SIGKILL: whatever was acknowledged is in Kafka; what was in flight comes again.
    const beforeKill = acked.size;
    telemetry?.child.kill('SIGKILL');
    await once(telemetry!.child, 'exit');
    telemetry = await startTelemetry();
    await ackedBy(beforeKill + 300, 'points acknowledged after telemetry came back');

    // 2. Kafka stopped and started: nothing is acknowledged meanwhile, then everything is.
    const beforeKafka = acked.size;
    sh(process.execPath, ['scripts/kafka.mjs', 'stop']);
    await new Promise((r) => setTimeout(r, 4000));
    const whileKafkaDown = acked.size;
    sh(process.execPath, ['scripts/kafka.mjs', 'start']);
    await ackedBy(whileKafkaDown + 300, 'points acknowledged after Kafka came back');

    // 3. PostgreSQL restarted: the writer's transaction fails, its batch comes again.
    const cluster = readdirSync('/etc/postgresql')[0];
    const beforePg = acked.size;
    sh('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'restart']);
    await ackedBy(beforePg + 300, 'points acknowledged after PostgreSQL came back');

    publishing = false;
    await publisher;
    await gatewayPublisher;
    await waitFor(async () => (acked.size + refused.length === sent ? true : undefined), 60_000, 'every point to be acknowledged', 200);
    expect(refused).toEqual([]);
    const final = await waitFor(
      async () => {
        const r = await storedRows();
        return r.n >= sent ? r : undefined;
      },
      60_000,
      'every point to be stored',
      250,
    );
    expect(final).toEqual({ n: sent, distinct: sent });
    // Through the site broker and the edge bridge too: every point the gateway sent, once.
    await waitFor(async () => (gatewayAcked.size === gatewaySent ? true : undefined), 30_000, 'the site broker to take every point', 200);
    const bridgedRows = await waitFor(
      async () => {
        const r = await storedRows(bridged.id);
        return r.n >= gatewaySent ? r : undefined;
      },
      60_000,
      'every bridged point to be stored',
      250,
    );
    expect(bridgedRows).toEqual({ n: gatewaySent, distinct: gatewaySent });
    // While the broker was down nothing was acknowledged that it did not hold (a few in flight may have landed just before).
    expect(whileKafkaDown - beforeKafka).toBeLessThan(150);
  }, 300_000);
});
