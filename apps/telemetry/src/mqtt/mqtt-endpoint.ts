import { createHash } from 'node:crypto';
import { Server, Socket, createServer } from 'node:net';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { AddressInfo } from 'node:net';
import * as mqtt from 'mqtt-packet';
import { AppLogger } from '@iip/platform-observability';
import { AuthenticatedDevice, RegistryClient } from '../registry/registry-client';
import { IngestService, Sender } from '../ingest/ingest.service';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';

/** MQTT 5 reason codes this endpoint sends (OASIS MQTT 5.0 §2.4). */
export const ReasonCode = {
  Success: 0x00,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  SessionTakenOver: 0x8e,
  KeepAliveTimeout: 0x8d,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketTooLarge: 0x95,
  QuotaExceeded: 0x97,
  PayloadFormatInvalid: 0x99,
  QoSNotSupported: 0x9b,
} as const;

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
const V4_CONNACK = { Accepted: 0, UnacceptableProtocol: 1, ServerUnavailable: 3, BadUserNameOrPassword: 4, NotAuthorized: 5 } as const;

export interface MqttEndpointSettings {
  host: string;
  port: number;
  tls?: { cert: string; key: string; ca?: string };
  /** Largest packet accepted (bytes). */
  maxPacketBytes: number;
}

const TOPIC = /^iip\/v1\/([0-9a-fA-F-]{36})\/(telemetry|events|twin\/reported|commands\/([A-Za-z_][A-Za-z0-9_]{0,63})\/response)$/;
const SUBSCRIBABLE = /^iip\/v1\/([0-9a-fA-F-]{36})\/(twin\/desired|commands\/(\+|[A-Za-z_][A-Za-z0-9_]{0,63}))$/;
const CONNECT_TIMEOUT_MS = 10_000;

/** A message for a connected device (desired twin changes, commands); `onAck` runs when the device PUBACKs it. */
export interface Delivery {
  deviceId: string;
  topic: string;
  payload: string;
  onAck?: () => void;
}

/** What devices send besides points, and what they are owed when they subscribe (commands queued while offline, the desired twin). */
export interface DeviceMessaging {
  event(sender: Sender, deviceId: string, payload: unknown): Promise<unknown>;
  commandAnswer(sender: Sender, deviceId: string, name: string, payload: unknown): Promise<void>;
  /** Deliveries owed to a device that just subscribed to `filter` (iip/v1/{id}/twin/desired, …/commands/+ or …/commands/{name}). */
  owed(deviceId: string, filter: string): Promise<Delivery[]>;
}

/**
 * The MQTT endpoint devices connect to, served by telemetry itself (MQTT 3.1.1 and 5; TLS when a
 * certificate is configured) so it decides who connects and when a publish is acknowledged:
 * CONNECT is checked against the device registry (username = device id, password = secret, or
 * the client certificate); a device publishes only on its own topics (a gateway also on its
 * sub-devices'); a QoS 1 PUBACK goes out only once Kafka holds the points, in the order the
 * PUBLISHes came. When Kafka cannot take points the connection is closed without PUBACK, so
 * the client sends them again. The protocol itself is read and written by mqtt-packet.
 */
export class MqttEndpoint {
  private server?: Server;
  private readonly sessions = new Set<MqttSession>();
  port = 0;

  constructor(
    private readonly settings: MqttEndpointSettings,
    private readonly registry: RegistryClient,
    private readonly ingest: IngestService,
    private readonly messaging: DeviceMessaging,
    private readonly logger: AppLogger,
  ) {}

  async start(): Promise<void> {
    const onSocket = (socket: Socket) => {
      const session = new MqttSession(socket, this, this.registry, this.ingest, this.messaging, this.logger, this.settings.maxPacketBytes);
      this.sessions.add(session);
      socket.once('close', () => this.sessions.delete(session));
    };
    const tls = this.settings.tls;
    this.server = tls
      ? createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, onSocket)
      : createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.settings.port, this.settings.host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.close(ReasonCode.ServerUnavailable);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A newer connection with the same client id takes over (MQTT §3.1.4). */
  takeOver(session: MqttSession): void {
    for (const s of this.sessions) if (s !== session && s.clientId === session.clientId && s.device) s.close(ReasonCode.SessionTakenOver);
  }

  /** Closes every session of a device (suspended, decommissioned) or of one credential (revoked). */
  disconnect(match: { deviceId?: string; credentialId?: string }): number {
    let n = 0;
    for (const s of this.sessions) {
      if (!s.device) continue;
      if (
        (match.deviceId && s.device.deviceId === match.deviceId) ||
        (match.credentialId && s.device.credentialId === match.credentialId)
      ) {
        s.close(ReasonCode.NotAuthorized);
        n++;
      }
    }
    return n;
  }

  /** Publishes to every connected session subscribed to the topic (QoS 1). Returns how many sessions got it. */
  deliver(d: Delivery): number {
    let n = 0;
    for (const s of this.sessions) if (s.subscribed(d.topic)) n += s.publish(d.topic, d.payload, d.onAck) ? 1 : 0;
    return n;
  }

  connectedDevices(): number {
    return [...this.sessions].filter((s) => s.device).length;
  }
}

class MqttSession {
  private readonly parser: ReturnType<typeof mqtt.parser>;
  private version = 4;
  clientId = '';
  device?: AuthenticatedDevice;
  private readonly subscriptions = new Set<string>();
  /** PUBACKs go out in PUBLISH order: each waits for the one before. */
  private ackChain: Promise<void> = Promise.resolve();
  private nextMessageId = 1;
  /** Our QoS 1 deliveries not PUBACKed yet: what to do when they are. */
  private readonly unacked = new Map<number, () => void>();
  private keepAliveTimer?: NodeJS.Timeout;
  private keepAliveMs = 0;
  private closed = false;
  private connecting = false;

  constructor(
    private readonly socket: Socket,
    private readonly endpoint: MqttEndpoint,
    private readonly registry: RegistryClient,
    private readonly ingest: IngestService,
    private readonly messaging: DeviceMessaging,
    private readonly logger: AppLogger,
    private readonly maxPacketBytes: number,
  ) {
    this.parser = mqtt.parser({ protocolVersion: 4 });
    socket.setNoDelay(true);
    this.parser.on('packet', (packet) => this.onPacket(packet));
    this.parser.on('error', (err: Error) => {
      this.logger.debug({ err: err.message }, 'malformed MQTT packet');
      this.close(ReasonCode.MalformedPacket);
    });
    socket.on('data', (chunk: Buffer) => {
      this.touch();
      this.parser.parse(chunk);
      // What the parser holds is the start of a packet not complete yet: one bigger than we take is not read to its end.
      const buffered = (this.parser as unknown as { _list?: { length: number } })._list?.length ?? 0;
      if (buffered > this.maxPacketBytes) this.close(ReasonCode.PacketTooLarge);
    });
    socket.on('error', () => this.close());
    socket.once('close', () => {
      this.closed = true;
      clearTimeout(this.keepAliveTimer);
    });
    this.keepAliveTimer = setTimeout(() => this.close(), CONNECT_TIMEOUT_MS);
  }

  subscribed(topic: string): boolean {
    if (!this.device || this.closed) return false;
    if (this.subscriptions.has(topic)) return true;
    const slash = topic.lastIndexOf('/');
    return this.subscriptions.has(`${topic.slice(0, slash)}/+`) && topic.slice(0, slash).endsWith('/commands');
  }

  publish(topic: string, payload: string, onAck?: () => void): boolean {
    if (this.closed) return false;
    const messageId = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId % 65535) + 1;
    if (onAck) this.unacked.set(messageId, onAck);
    else this.unacked.delete(messageId);
    this.send({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, messageId, retain: false, dup: false });
    return true;
  }

  close(reasonCode?: number): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.keepAliveTimer);
    if (this.version === 5 && this.device && reasonCode !== undefined) {
      this.send({ cmd: 'disconnect', reasonCode });
    }
    this.socket.end();
    // A peer that does not close its side is cut off.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private send(packet: mqtt.Packet): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(mqtt.generate(packet, { protocolVersion: this.version }));
  }

  private touch(): void {
    if (!this.device || this.keepAliveMs === 0) return;
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = setTimeout(() => this.close(ReasonCode.KeepAliveTimeout), this.keepAliveMs * 1.5);
  }

  private onPacket(packet: mqtt.Packet): void {
    if (this.closed) return;
    if (!this.device && packet.cmd !== 'connect') return this.close(ReasonCode.ProtocolError);
    switch (packet.cmd) {
      case 'connect':
        if (this.device || this.connecting) return this.close(ReasonCode.ProtocolError);
        void this.onConnect(packet);
        return;
      case 'publish':
        return this.onPublish(packet);
      case 'subscribe':
        return this.onSubscribe(packet);
      case 'unsubscribe':
        for (const t of packet.unsubscriptions) this.subscriptions.delete(t);
        this.send({
          cmd: 'unsuback',
          messageId: packet.messageId,
          ...(this.version === 5 ? { reasonCodes: packet.unsubscriptions.map(() => 0) } : {}),
        } as mqtt.Packet);
        return;
      case 'puback': {
        // Our QoS 1 deliveries: what is not PUBACKed is delivered again on the next subscription (commands stay open until answered).
        const onAck = this.unacked.get(packet.messageId as number);
        this.unacked.delete(packet.messageId as number);
        onAck?.();
        return;
      }
      case 'pingreq':
        this.send({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        this.closed = true;
        this.socket.end();
        return;
      // What only a server sends, and QoS 2 and enhanced authentication, which this endpoint does not take.
      case 'connack':
      case 'suback':
      case 'unsuback':
      case 'pingresp':
      case 'pubrec':
      case 'pubrel':
      case 'pubcomp':
      case 'auth':
        return this.close(ReasonCode.ProtocolError);
    }
  }

  private async onConnect(packet: mqtt.IConnectPacket): Promise<void> {
    this.connecting = true;
    this.version = packet.protocolVersion ?? 4;
    (this.parser as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion = this.version;
    this.clientId = packet.clientId;
    const refuse = (v5: number, v4: number) => {
      this.send(
        this.version === 5
          ? { cmd: 'connack', reasonCode: v5, sessionPresent: false }
          : { cmd: 'connack', returnCode: v4, sessionPresent: false },
      );
      this.closed = true;
      this.socket.end();
    };
    if (this.version !== 4 && this.version !== 5) return refuse(ReasonCode.UnsupportedProtocolVersion, V4_CONNACK.UnacceptableProtocol);
    const fingerprint = certificateFingerprint(this.socket);
    const deviceId = packet.username ?? '';
    const secret = packet.password ? packet.password.toString('utf8') : '';
    if (!secret && !fingerprint) return refuse(ReasonCode.BadUserNameOrPassword, V4_CONNACK.BadUserNameOrPassword);
    try {
      this.device = await this.registry.authenticate({
        deviceId,
        secret: secret || undefined,
        certificateFingerprint: secret ? undefined : fingerprint,
      });
    } catch (err) {
      if (err instanceof TelemetryError && err.code === TelemetryErrorCode.REGISTRY_UNAVAILABLE)
        return refuse(ReasonCode.ServerUnavailable, V4_CONNACK.ServerUnavailable);
      return refuse(ReasonCode.BadUserNameOrPassword, V4_CONNACK.BadUserNameOrPassword);
    }
    if (this.closed) return;
    if (this.device.status === 'suspended' || this.device.status === 'decommissioned') {
      this.device = undefined;
      return refuse(ReasonCode.NotAuthorized, V4_CONNACK.NotAuthorized);
    }
    this.keepAliveMs = (packet.keepalive ?? 0) * 1000;
    this.endpoint.takeOver(this);
    this.send(
      this.version === 5
        ? {
            cmd: 'connack',
            reasonCode: 0,
            sessionPresent: false,
            properties: {
              maximumQoS: 1,
              retainAvailable: false,
              wildcardSubscriptionAvailable: false,
              sharedSubscriptionAvailable: false,
              topicAliasMaximum: 0,
            },
          }
        : { cmd: 'connack', returnCode: 0, sessionPresent: false },
    );
    this.touch();
  }

  private onPublish(packet: mqtt.IPublishPacket): void {
    const device = this.device as AuthenticatedDevice;
    if (packet.qos === 2) return this.close(ReasonCode.QoSNotSupported);
    const match = TOPIC.exec(packet.topic);
    const ack = (reasonCode: number, reasonString?: string) => {
      if (packet.qos !== 1) return;
      const messageId = packet.messageId as number;
      this.send({
        cmd: 'puback',
        messageId,
        ...(this.version === 5
          ? { reasonCode, ...(reasonString ? { properties: { reasonString: reasonString.slice(0, 1000) } } : {}) }
          : {}),
      });
    };
    // Every outcome waits its turn, so PUBACKs leave in PUBLISH order.
    const previous = this.ackChain;
    let settle: (outcome: () => void) => void = () => undefined;
    const outcome = new Promise<() => void>((resolve) => (settle = resolve));
    this.ackChain = previous.then(() => outcome).then((send) => send());
    if (!match) {
      // MQTT 3.1.1 has no refusal for a PUBLISH: the connection is closed (§3.3.5).
      settle(() =>
        this.version === 5 && packet.qos === 1
          ? ack(ReasonCode.TopicNameInvalid, `${packet.topic} is not a topic of this endpoint`)
          : this.close(ReasonCode.TopicNameInvalid),
      );
      return;
    }
    const [, target, kind, commandName] = match;
    let payload: unknown;
    try {
      payload = JSON.parse(packet.payload.toString('utf8'));
    } catch {
      settle(() => (this.version === 5 ? ack(ReasonCode.PayloadFormatInvalid, 'the payload is not JSON') : this.close()));
      return;
    }
    const sender = { device: { deviceId: device.deviceId, tenantId: device.tenantId } };
    if (kind === 'events' || commandName !== undefined) {
      const done =
        kind === 'events'
          ? this.messaging.event(sender, target.toLowerCase(), payload)
          : this.messaging.commandAnswer(sender, target.toLowerCase(), commandName, payload);
      done.then(
        () => settle(() => ack(ReasonCode.Success)),
        (err: unknown) => settle(() => this.refusal(err, ack)),
      );
      return;
    }
    if (kind === 'twin/reported') {
      // The registry checks the patch against the device's model and keeps the twin.
      const patch = payload;
      this.ingest
        .deviceFor(sender, target.toLowerCase())
        .then((d) => {
          if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
            throw new TelemetryError(TelemetryErrorCode.PAYLOAD_INVALID, 'a reported twin update is a JSON object (a merge patch)');
          }
          return this.registry.updateReported(d.id, patch as Record<string, unknown>);
        })
        .then(
          () => settle(() => ack(ReasonCode.Success)),
          (err: unknown) => settle(() => this.refusal(err, ack)),
        );
      return;
    }
    this.ingest.ingest(sender, target.toLowerCase(), payload).then(
      (result) =>
        settle(() =>
          ack(
            ReasonCode.Success,
            result.refused.length > 0
              ? `${result.refused.length} values refused: ${result.refused.map((r) => `#${r.index}${r.property ? ` ${r.property}` : ''}: ${r.reason}`).join('; ')}`
              : undefined,
          ),
        ),
      (err: unknown) => settle(() => this.refusal(err, ack)),
    );
  }

  /** What an ingest error becomes: a PUBACK reason (MQTT 5), or a closed connection when the point must be sent again. */
  private refusal(err: unknown, ack: (reasonCode: number, reasonString?: string) => void): void {
    const code = err instanceof TelemetryError ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    switch (code) {
      case TelemetryErrorCode.PAYLOAD_INVALID:
      case TelemetryErrorCode.TOO_MANY_POINTS:
        return this.version === 5 ? ack(ReasonCode.PayloadFormatInvalid, message) : this.close();
      case TelemetryErrorCode.QUOTA_EXCEEDED:
        return this.version === 5 ? ack(ReasonCode.QuotaExceeded, message) : this.close();
      case TelemetryErrorCode.DEVICE_NOT_FOUND:
      case TelemetryErrorCode.NOT_YOUR_DEVICE:
        return this.version === 5 ? ack(ReasonCode.NotAuthorized, message) : this.close();
      case TelemetryErrorCode.COMMAND_NOT_FOUND:
        // An answer to a command that is not open: nothing to send again.
        return this.version === 5 ? ack(ReasonCode.ImplementationSpecificError, message) : ack(ReasonCode.Success);
      case TelemetryErrorCode.DEVICE_NOT_ACTIVE:
        return this.close(ReasonCode.NotAuthorized);
      case TelemetryErrorCode.BACKBONE_UNAVAILABLE:
      case TelemetryErrorCode.REGISTRY_UNAVAILABLE:
      case TelemetryErrorCode.DEVICE_NOT_KNOWN_YET:
      case TelemetryErrorCode.DEVICE_NOT_AUTHENTICATED:
      case TelemetryErrorCode.QUERY_INVALID:
      case TelemetryErrorCode.RULE_NOT_FOUND:
      case TelemetryErrorCode.ALARM_NOT_FOUND:
      case TelemetryErrorCode.ALARM_TRANSITION_NOT_ALLOWED:
      case TelemetryErrorCode.SELECTION_NOT_PERMITTED:
      case TelemetryErrorCode.TENANT_NOT_FOUND:
      case TelemetryErrorCode.MAINTENANCE_PROFILE_NOT_FOUND:
      case TelemetryErrorCode.HEALTH_NOT_FOUND:
      case TelemetryErrorCode.WORK_ORDER_NOT_FOUND:
      case TelemetryErrorCode.WORK_ORDER_CLOSED:
      case undefined:
        // Nothing was accepted and the client must send it again: no PUBACK, the connection goes.
        this.logger.warn(
          { err: message, device: this.device?.deviceId },
          'points not accepted; closing the connection so the device sends them again',
        );
        return this.close(ReasonCode.ServerBusy);
    }
  }

  private onSubscribe(packet: mqtt.ISubscribePacket): void {
    const device = this.device as AuthenticatedDevice;
    const refused = this.version === 5 ? ReasonCode.NotAuthorized : 0x80;
    void Promise.all(
      packet.subscriptions.map(async (s): Promise<{ granted: number; target?: string; filter?: string }> => {
        const m = SUBSCRIBABLE.exec(s.topic);
        if (!m) return { granted: this.version === 5 ? ReasonCode.TopicFilterInvalid : 0x80 };
        const target = m[1].toLowerCase();
        if (target !== device.deviceId) {
          try {
            await this.ingest.deviceFor({ device: { deviceId: device.deviceId, tenantId: device.tenantId } }, target);
          } catch {
            return { granted: refused };
          }
        }
        const filter = `iip/v1/${target}/${m[2]}`;
        this.subscriptions.add(filter);
        return { granted: Math.min(s.qos, 1), target, filter };
      }),
    ).then((results) => {
      this.send({ cmd: 'suback', messageId: packet.messageId, granted: results.map((r) => r.granted) });
      // What the device is owed on what it now holds: commands queued while it was away, the desired twin.
      for (const { target, filter } of results) {
        if (!target || !filter) continue;
        this.messaging.owed(target, filter).then(
          (deliveries) => deliveries.forEach((d) => this.publish(d.topic, d.payload, d.onAck)),
          (err: unknown) => this.logger.warn({ err: (err as Error).message, device: target, filter }, 'owed deliveries not sent'),
        );
      }
    });
  }
}

/** SHA-256 of the client certificate (DER, lower-case hex), when the connection is TLS and the device presented one. */
function certificateFingerprint(socket: Socket): string | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerCertificate();
  return cert && cert.raw ? createHash('sha256').update(cert.raw).digest('hex') : undefined;
}
