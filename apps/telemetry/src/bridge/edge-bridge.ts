import { Inject, Injectable } from '@nestjs/common';
import { Kafka, Producer } from 'kafkajs';
import { LRUCache } from 'lru-cache';
import mqtt, { IPublishPacket, MqttClient } from 'mqtt';
import { z } from 'zod';
import { Principal } from '@iip/platform-auth';
import { TopicProvisioner, createIdempotentProducer, dlqTopicOf, startWithRetry } from '@iip/platform-kafka';
import { AppLogger, Metrics } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { DevicesRepository, KnownDevice } from '../devices/devices.repository';
import { ThingEventsService } from '../events/thing-events.service';
import { IngestService, Sender } from '../ingest/ingest.service';
import { TelemetryScopes } from '../scopes';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';
import { TenantsRepository } from '../tenants/tenants.repository';

/**
 * TELEMETRY_BRIDGES: site brokers to take telemetry from (存量设备: gateways that already publish
 * into a broker of their own). Each names the tenant whose devices publish there and maps topic
 * filters to devices: `+` segments are numbered {1}, {2}, … and `device` is `id:<template>` or
 * `serial:<template>` (a device of the tenant's subtree with that serial number). The payload is
 * telemetry's own ({ts, values} or a list), or with `property` set a single value (`21.5` or
 * `{"ts": …, "value": 21.5}`) of that property; `kind: events` takes the device's events instead.
 */
export const bridgesSchema = z
  .array(
    z.object({
      name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and -'),
      url: z.string().regex(/^mqtts?:\/\/[^\s]+$/, 'an mqtt:// or mqtts:// URL'),
      username: z.string().max(256).optional(),
      password: z.string().max(1024).optional(),
      tenantId: z.string().uuid(),
      clientId: z.string().min(1).max(128).optional(),
      mappings: z
        .array(
          z.object({
            topic: z
              .string()
              .min(1)
              .max(512)
              .refine((t) => !t.includes('#') && !t.startsWith('$'), 'a topic filter with + wildcards only (no #, no $)'),
            device: z.string().regex(/^(id|serial):.+$/, 'id:<template> or serial:<template>, e.g. serial:{1}'),
            property: z.string().max(200).optional(),
            kind: z.enum(['telemetry', 'events']).default('telemetry'),
          }),
        )
        .min(1),
    }),
  )
  .max(32);

export type BridgeSettings = z.infer<typeof bridgesSchema>[number];
type Mapping = BridgeSettings['mappings'][number];

/** How long a message that could not be taken (Kafka down, the device not known yet) waits before it is tried again, ms. */
const RETRY_MS = [200, 500, 1000, 2000, 5000];
const DEVICE_CACHE_MS = 30_000;
const SESSION_EXPIRY_S = 7 * 86_400;

/** Fills `{n}` from the topic's wildcard segments; undefined when a referenced segment is missing. */
function fill(template: string, wildcards: string[]): string | undefined {
  let missing = false;
  const out = template.replace(/\{(\d+)\}/g, (_, n: string) => {
    const v = wildcards[Number(n) - 1];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

/** The wildcard segments of `topic` under `filter`, or undefined when it does not match. */
export function matchTopic(filter: string, topic: string): string[] | undefined {
  const f = filter.split('/');
  const t = topic.split('/');
  if (f.length !== t.length) return undefined;
  const wildcards: string[] = [];
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '+') wildcards.push(t[i]);
    else if (f[i] !== t[i]) return undefined;
  }
  return wildcards;
}

/**
 * One site broker, subscribed with a persistent session (clean: false, QoS 1): a message is
 * PUBACKed to the site broker only once its points are in Kafka (or, when it can never be taken —
 * not JSON, no such device, values outside the model — once it is on the dead-letter topic with
 * why), so a crash or a Kafka outage means the broker sends it again and nothing is lost; the
 * stored points are keyed by (device, property, instant), so nothing is stored twice. Messages are
 * taken one at a time, in order (mqtt.js hands over the next once the previous is acknowledged).
 */
export class EdgeBridge {
  private client?: MqttClient;
  private readonly dlq: Producer;
  private readonly dlqTopic: string;
  stopped = false;
  private readonly devices = new LRUCache<string, KnownDevice>({ max: 100_000, ttl: DEVICE_CACHE_MS });
  private sender?: Sender;

  constructor(
    private readonly settings: BridgeSettings,
    kafka: Kafka,
    private readonly topics: TopicProvisioner,
    topicPrefix: string,
    private readonly ingest: IngestService,
    private readonly events: ThingEventsService,
    private readonly deviceRows: DevicesRepository,
    private readonly tenants: TenantsRepository,
    private readonly logger: AppLogger,
    private readonly metrics: Metrics,
  ) {
    this.dlq = createIdempotentProducer(kafka);
    this.dlqTopic = dlqTopicOf(`${topicPrefix}iip.telemetry.bridge.v1`);
  }

  async start(): Promise<void> {
    await this.topics.ensure([this.dlqTopic]);
    await this.dlq.connect();
    if (this.stopped) return;
    const s = this.settings;
    this.client = mqtt.connect(s.url, {
      clientId: s.clientId ?? `iip-telemetry-bridge-${s.name}`,
      // MQTT 5 (mqtt.js holds PUBACKs back only on 5), with a session the broker keeps a week while the bridge is away.
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S },
      username: s.username,
      password: s.password,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      // Subscribed on every connect below (a persistent session keeps them anyway; asking again is harmless).
      resubscribe: false,
      customHandleAcks: (topic: string, message: Buffer, packet: IPublishPacket, done: (code: number) => void) => {
        void this.take(topic, message, packet).then(
          () => done(0),
          // Stopping: no PUBACK, the broker keeps the message for the next session.
          () => undefined,
        );
      },
    });
    this.client.on('connect', (ack) => {
      this.logger.info({ bridge: s.name, sessionPresent: ack.sessionPresent }, 'edge bridge connected to the site broker');
      this.client?.subscribe(
        s.mappings.map((m) => m.topic),
        { qos: 1 },
        (err) => err && this.logger.warn({ bridge: s.name, err: err.message }, 'edge bridge subscription refused'),
      );
    });
    this.client.on('error', (err) => this.logger.warn({ bridge: s.name, err: err.message }, 'edge bridge connection error'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Forced: what is being taken now is not PUBACKed, and the broker sends it again to the next session.
    await new Promise<void>((resolve) => (this.client ? this.client.end(true, {}, () => resolve()) : resolve()));
    await this.dlq.disconnect().catch(() => undefined);
  }

  /** Takes one message: resolves when it may be PUBACKed, rejects only when the bridge stops first. */
  private async take(topic: string, message: Buffer, packet: IPublishPacket): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Error('stopping');
      try {
        const refused = await this.ingestOne(topic, message);
        if (refused) await this.deadLetter(topic, message, packet, refused);
        this.metrics.kafkaMessages.inc({ topic: `bridge:${this.settings.name}`, outcome: refused ? 'dead-lettered' : 'applied' });
        return;
      } catch (err) {
        // Could not be taken now (Kafka, the registry, a device not known here yet, the quota): the same message again, later.
        const wait =
          err instanceof TelemetryError && err.retryAfterSeconds
            ? err.retryAfterSeconds * 1000
            : RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
        if (attempt === 0 || attempt % 10 === 0)
          this.logger.warn(
            { bridge: this.settings.name, topic, err: (err as Error).message, attempt },
            'edge bridge message not taken yet; retrying',
          );
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Ingests one message; returns why it (or part of it) can never be taken, or undefined when all went in. Throws when it should be tried again. */
  private async ingestOne(topic: string, message: Buffer): Promise<string | undefined> {
    const found = this.mappingOf(topic);
    if (!found) return `no mapping of bridge ${this.settings.name} matches ${topic}`;
    const { mapping, wildcards } = found;
    const device = await this.deviceOf(mapping, wildcards);
    if (typeof device === 'string') return device;
    let payload: unknown;
    try {
      payload = JSON.parse(message.toString('utf8'));
    } catch {
      return 'the payload is not JSON';
    }
    if (mapping.property !== undefined) {
      const property = fill(mapping.property, wildcards);
      if (!property) return `the mapping's property ${mapping.property} names a segment ${topic} does not have`;
      const single = payload as { ts?: unknown; value?: unknown };
      payload =
        typeof single === 'object' && single !== null && !Array.isArray(single) && 'value' in single
          ? { ts: single.ts, values: { [property]: single.value } }
          : { values: { [property]: payload } };
    }
    const sender = await this.senderOf();
    try {
      if (mapping.kind === 'events') {
        await this.events.accept(sender, device.id, payload);
        return undefined;
      }
      const result = await this.ingest.ingest(sender, device.id, payload);
      return result.refused.length > 0
        ? `${result.refused.length} values refused: ${result.refused.map((r) => `#${r.index}${r.property ? ` ${r.property}` : ''}: ${r.reason}`).join('; ')}`
        : undefined;
    } catch (err) {
      const code = err instanceof TelemetryError ? err.code : undefined;
      if (
        code === TelemetryErrorCode.PAYLOAD_INVALID ||
        code === TelemetryErrorCode.TOO_MANY_POINTS ||
        code === TelemetryErrorCode.DEVICE_NOT_FOUND ||
        code === TelemetryErrorCode.DEVICE_NOT_ACTIVE
      ) {
        return (err as Error).message;
      }
      throw err;
    }
  }

  private mappingOf(topic: string): { mapping: Mapping; wildcards: string[] } | undefined {
    for (const mapping of this.settings.mappings) {
      const wildcards = matchTopic(mapping.topic, topic);
      if (wildcards) return { mapping, wildcards };
    }
    return undefined;
  }

  /** The mapped device, or why there is none. */
  private async deviceOf(mapping: Mapping, wildcards: string[]): Promise<KnownDevice | string> {
    const [by, template] = [mapping.device.slice(0, mapping.device.indexOf(':')), mapping.device.slice(mapping.device.indexOf(':') + 1)];
    const key = fill(template, wildcards);
    if (!key) return `the mapping's device ${mapping.device} names a segment the topic does not have`;
    const cached = this.devices.get(`${by}:${key}`);
    if (cached) return cached;
    const device =
      by === 'id'
        ? /^[0-9a-f-]{36}$/i.test(key)
          ? await this.deviceRows.find(key.toLowerCase())
          : undefined
        : await this.deviceRows.findBySerial(this.settings.tenantId, key);
    if (!device) return `no device of tenant ${this.settings.tenantId} has ${by} ${key}`;
    this.devices.set(`${by}:${key}`, device);
    return device;
  }

  /** The bridge sends as its tenant (a client of it with telemetry:write): it may send for the tenant's subtree only. */
  private async senderOf(): Promise<Sender> {
    if (this.sender) return this.sender;
    const tenant = (await this.tenants.findMany([this.settings.tenantId])).get(this.settings.tenantId);
    if (!tenant) {
      throw new TelemetryError(
        TelemetryErrorCode.DEVICE_NOT_KNOWN_YET,
        `Tenant ${this.settings.tenantId} is not known here yet; retry in a moment`,
      );
    }
    const principal: Principal = {
      clientId: `bridge:${this.settings.name}`,
      tenant: { id: tenant.id, kind: tenant.kind, path: tenant.path },
      scopes: new Set([TelemetryScopes.TelemetryWrite]),
      expiresAt: Number.MAX_SAFE_INTEGER,
    };
    this.sender = { principal };
    return this.sender;
  }

  private async deadLetter(topic: string, message: Buffer, packet: IPublishPacket, why: string): Promise<void> {
    this.logger.warn({ bridge: this.settings.name, topic, why }, 'edge bridge message dead-lettered');
    await this.dlq.send({
      topic: this.dlqTopic,
      acks: -1,
      messages: [
        {
          key: topic,
          value: message,
          headers: {
            'x-dlq-error': why.slice(0, 2000),
            'x-dlq-error-code': 'BRIDGE_MESSAGE_REFUSED',
            'x-bridge': this.settings.name,
            'x-bridge-topic': topic,
            'x-bridge-qos': String(packet.qos),
          },
        },
      ],
    });
  }
}

export const BRIDGE_SETTINGS = Symbol('BRIDGE_SETTINGS');

/** The bridges this instance runs (none unless TELEMETRY_BRIDGES names some and TELEMETRY_BRIDGE is on). */
@Injectable()
export class EdgeBridges {
  private readonly bridges: EdgeBridge[];

  constructor(
    @Inject(BRIDGE_SETTINGS) settings: BridgeSettings[],
    runtime: ServiceRuntime,
    ingest: IngestService,
    events: ThingEventsService,
    devices: DevicesRepository,
    tenants: TenantsRepository,
  ) {
    const { kafka, topics, config, logger, metrics } = runtime;
    this.bridges = settings.map(
      (s) => new EdgeBridge(s, kafka, topics, config.KAFKA_TOPIC_PREFIX, ingest, events, devices, tenants, logger, metrics),
    );
  }

  /** Starts each bridge in the background (a site broker that is down is retried; it does not hold up the service). */
  start(logger: AppLogger): void {
    for (const b of this.bridges) {
      void startWithRetry(
        () => b.start(),
        () => b.stopped,
        logger,
        'edge bridge',
      );
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.bridges.map((b) => b.stop()));
  }
}
