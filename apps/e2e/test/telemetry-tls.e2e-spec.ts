import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import request from 'supertest';
import { TelemetryWorld, publishQos1, telemetryWorld } from './telemetry-world';

/** A key and a self-signed certificate made by openssl (P-256), for 127.0.0.1 / localhost. */
function selfSigned(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** The MQTT endpoint over TLS: a device connects with its secret, or with a client certificate its credential names. */
describe('telemetry: MQTT over TLS', () => {
  let w: TelemetryWorld;
  let dir: string;
  let server: { cert: string; key: string };
  let client: { cert: string; key: string };
  const clients: MqttClient[] = [];

  const connect = (options: mqtt.IClientOptions) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect({
        protocol: 'mqtts',
        host: '127.0.0.1',
        port: w.telemetry.mqttPort,
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ca: readFileSync(server.cert),
        servername: 'localhost',
        ...options,
      });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
      c.once('close', () => reject(new Error('closed')));
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iip-tls-'));
    server = selfSigned(dir, 'server', 'localhost');
    client = selfSigned(dir, 'device', 'pump-device');
    w = await telemetryWorld('teltls', { telemetry: { TELEMETRY_MQTT_TLS_CERT: server.cert, TELEMETRY_MQTT_TLS_KEY: server.key } });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes a device with its secret over TLS, refuses plain TCP on the TLS port, and a client certificate stands in for the secret', async () => {
    const device = await w.device();
    const bySecret = await connect({ username: device.id, password: device.secret });
    expect((await publishQos1(bySecret, `iip/v1/${device.id}/telemetry`, { values: { speed: 10 } })).reasonCode).toBe(0);

    // Plain MQTT on the TLS port gets no CONNACK.
    await expect(
      new Promise<MqttClient>((resolve, reject) => {
        const c = mqtt.connect(`mqtt://127.0.0.1:${w.telemetry.mqttPort}`, {
          username: device.id,
          password: device.secret,
          reconnectPeriod: 0,
          connectTimeout: 2000,
        });
        clients.push(c);
        c.once('connect', () => resolve(c));
        c.once('error', reject);
        c.once('close', () => reject(new Error('closed')));
      }),
    ).rejects.toThrow();

    // A certificate the registry does not know is refused; once registered as the device's credential, it connects with no secret.
    const cert = readFileSync(client.cert);
    const key = readFileSync(client.key);
    await expect(connect({ username: device.id, cert, key })).rejects.toThrow();
    const registered = await request(w.registry.httpUrl)
      .post(`/v1/devices/${device.id}/credentials`)
      .auth(w.token, { type: 'bearer' })
      .send({ kind: 'x509', label: 'pump certificate', certificatePem: cert.toString() });
    expect(registered.status).toBe(201);
    const byCert = await connect({ username: device.id, cert, key });
    expect((await publishQos1(byCert, `iip/v1/${device.id}/telemetry`, { values: { speed: 11 } })).reasonCode).toBe(0);
  });
});
