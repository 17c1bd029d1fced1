import mqtt, { type MqttClient } from 'mqtt';
import type { IPubackPacket } from 'mqtt-packet';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { OPERATOR, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { startTestDeviceRegistry } from '@iip/device-registry-testing';
import { RunningTelemetry, startTestTelemetry } from '@iip/telemetry-testing';

export const TELEMETRY_SCOPES = [
  'devices:read',
  'devices:write',
  'models:write',
  'telemetry:write',
  'telemetry:read',
  'alarms:write',
  'commands:write',
  'clients:write',
];

/** A pump: temperature in Cel (−40…200), speed in /min (0…3600), running, mode; an overheat event; a setSpeed command. */
export const PUMP_MODEL = {
  properties: {
    temperature: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' },
    speed: { type: 'int', unit: '/min', min: 0, max: 3600, access: 'read-write' },
    running: { type: 'bool', access: 'read-only' },
    mode: { type: 'enum', values: ['auto', 'manual'], access: 'read-write' },
  },
  events: {
    overheat: { level: 'fault', outputs: { temperature: { type: 'float', unit: 'Cel', min: -40, max: 200 } } },
  },
  commands: {
    setSpeed: {
      mode: 'sync',
      inputs: { speed: { type: 'int', unit: '/min', min: 0, max: 3600 } },
      outputs: { applied: { type: 'bool' } },
    },
  },
};

export interface TelemetryWorld {
  env: TestEnvironment;
  tenancy: RunningTenancy;
  registry: ServiceRuntime;
  telemetry: RunningTelemetry;
  op: string;
  tenantId: string;
  token: string;
  modelId: string;
  /** Registers a device of the pump model with a secret, and waits until telemetry knows it (`as`: another tenant's token and model). */
  device(
    extra?: Record<string, unknown>,
    as?: { token: string; modelId: string },
  ): Promise<{ id: string; secret: string; credentialId: string }>;
  /** Stops telemetry (if running) and starts it again with these settings. */
  restartTelemetry(overrides?: Record<string, string>): Promise<void>;
  stopTelemetry(): Promise<void>;
  close(): Promise<void>;
}

/** Tenancy, the device registry and telemetry, a group with a client, and the pump model, published. */
export async function telemetryWorld(
  label: string,
  options: { quota?: number; telemetry?: Record<string, string> } = {},
): Promise<TelemetryWorld> {
  const env = await createTestEnvironment(label);
  const tenancy = await startTestTenancy(env);
  const registry = await startTestDeviceRegistry(env, tenancy.httpUrl);
  const start = (overrides: Record<string, string> = {}) =>
    startTestTelemetry(
      env,
      {
        tenancyUrl: tenancy.httpUrl,
        tenancyGrpcUrl: tenancy.grpcUrl,
        registry,
        client: { clientId: OPERATOR.clientId, secret: OPERATOR.secret },
      },
      { ...options.telemetry, ...overrides },
    );
  let telemetry = await start();
  let running = true;
  const op = await operatorToken(tenancy);
  const group = await createTenant(tenancy, op, {
    kind: 'group',
    quotas: { maxDevices: 1000, maxTelemetryPointsPerSecond: options.quota ?? 100_000 },
  });
  const token = (await clientToken(tenancy, op, group.id, TELEMETRY_SCOPES)).token;
  const as = (path: string, body: object, bearer = token) =>
    request(registry.httpUrl).post(path).auth(bearer, { type: 'bearer' }).send(body);
  const model = await waitFor(
    async () => {
      const res = await as('/v1/models', { name: 'Pump', definition: PUMP_MODEL });
      return res.status === 503 ? undefined : res;
    },
    20_000,
    'the registry to know the group',
  );
  if (model.status !== 201) throw new Error(`model: ${model.status} ${JSON.stringify(model.body)}`);
  await as(`/v1/models/${model.body.id}/versions/1/publish`, {});
  let serial = 0;
  const world: TelemetryWorld = {
    env,
    tenancy,
    registry,
    get telemetry() {
      return telemetry;
    },
    op,
    tenantId: group.id,
    token,
    modelId: model.body.id as string,
    async device(extra = {}, owner = { token, modelId: model.body.id as string }) {
      const d = await as(
        '/v1/devices',
        {
          name: `P${++serial}`,
          manufacturer: 'KSB',
          serial: `${label}-${serial}-${Date.now()}`,
          model: { id: owner.modelId },
          ...extra,
        },
        owner.token,
      );
      if (d.status !== 201) throw new Error(`device: ${d.status} ${JSON.stringify(d.body)}`);
      const c = await as(`/v1/devices/${d.body.id}/credentials`, { kind: 'secret', label: 'test' }, owner.token);
      if (c.status !== 201) throw new Error(`credential: ${c.status} ${JSON.stringify(c.body)}`);
      // Telemetry hears of the device from the registry's events.
      await waitFor(
        async () => {
          const r = await request(telemetry.httpUrl).get(`/v1/devices/${d.body.id}/telemetry/latest`).auth(owner.token, { type: 'bearer' });
          return r.status === 200 ? true : undefined;
        },
        20_000,
        'telemetry to know the device',
      );
      return { id: d.body.id as string, secret: c.body.secret as string, credentialId: c.body.id as string };
    },
    async restartTelemetry(overrides = {}) {
      if (running) await telemetry.close();
      telemetry = await start(overrides);
      running = true;
    },
    async stopTelemetry() {
      if (running) await telemetry.close();
      running = false;
    },
    async close() {
      if (running) await telemetry?.close();
      await registry?.close();
      await tenancy?.close();
      await env?.cleanup();
    },
  };
  return world;
}

/** Publishes QoS 1 and resolves with the PUBACK as received (reason code and string, MQTT 5). */
export function publishQos1(c: MqttClient, topic: string, body: unknown): Promise<{ reasonCode: number; reasonString?: string }> {
  return new Promise((resolve, reject) => {
    const holder = c as unknown as { _acks?: Map<number, IPubackPacket> };
    let acks = holder._acks;
    if (!acks) {
      const seen = new Map<number, IPubackPacket>();
      holder._acks = acks = seen;
      c.on('packetreceive', (p) => p.cmd === 'puback' && seen.set(p.messageId as number, p));
    }
    const known = acks;
    c.publish(topic, JSON.stringify(body), { qos: 1 }, (err, packet) => {
      if (err && (err as { code?: number }).code === undefined) return reject(err);
      const ack = known.get((packet as { messageId?: number } | undefined)?.messageId ?? -1);
      resolve({
        reasonCode: (err as { code?: number } | undefined)?.code ?? ack?.reasonCode ?? 0,
        reasonString: ack?.properties?.reasonString,
      });
    });
  });
}

/** Connects a device to telemetry's MQTT endpoint (MQTT 5, no reconnect), remembering the client in `clients` to end it after the test. */
export function connectDevice(port: number, device: { id: string; secret: string }, clients: MqttClient[]): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      username: device.id,
      password: device.secret,
      reconnectPeriod: 0,
    });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}
