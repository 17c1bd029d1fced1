import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Principal, canManage } from '@iip/platform-auth';
import { DevicesRepository, KnownDevice } from '../devices/devices.repository';
import { REGISTRY_CLIENT, RegistryClient } from '../registry/registry-client';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';
import { KnownTenant, TenantsRepository } from '../tenants/tenants.repository';
import { CheckedPoints, NotPointsError, RefusedValue, TooManyPointsError, checkPoints } from './points';
import { DeviceActivity } from './activity';
import { PointsProducer } from './points-producer';
import { TelemetryQuota } from './quota';

export const INGEST_SETTINGS = Symbol('INGEST_SETTINGS');

export interface IngestSettings {
  rawRetentionDays: number;
  maxFutureMs: number;
  maxPointsPerMessage: number;
}

/** Who sends: a device with its own credential (a gateway also for its sub-devices), or a tenant's client with telemetry:write. */
export type Sender = { device: { deviceId: string; tenantId: string } } | { principal: Principal };

export interface IngestResult {
  accepted: number;
  refused: RefusedValue[];
}

/** Recently read devices and tenants (a busy device sends many times a second). */
const LOOKUP_TTL_MS = 1000;

/**
 * One way in for every transport (MQTT, HTTP, gRPC): the sender may send for the device, the
 * device is in service, each value fits the device's thing model, the tenant (and every
 * ancestor's total) is under its quota — then Kafka holds the points before this resolves.
 */
@Injectable()
export class IngestService {
  private readonly devices = new LRUCache<string, KnownDevice>({ max: 100_000, ttl: LOOKUP_TTL_MS });
  private readonly tenants = new LRUCache<string, KnownTenant>({ max: 10_000, ttl: LOOKUP_TTL_MS });

  constructor(
    private readonly deviceRows: DevicesRepository,
    private readonly tenantRows: TenantsRepository,
    @Inject(REGISTRY_CLIENT) private readonly registry: RegistryClient,
    private readonly quota: TelemetryQuota,
    private readonly producer: PointsProducer,
    private readonly activity: DeviceActivity,
    @Inject(INGEST_SETTINGS) private readonly settings: IngestSettings,
  ) {}

  async ingest(sender: Sender, deviceId: string, payload: unknown): Promise<IngestResult> {
    const device = await this.deviceFor(sender, deviceId);
    const model = await this.registry.model(device.modelId, device.modelVersion);
    const now = Date.now();
    let checked: CheckedPoints;
    try {
      checked = checkPoints(payload, model, {
        now,
        oldestMs: now - this.settings.rawRetentionDays * 86_400_000,
        latestMs: now + this.settings.maxFutureMs,
        maxPoints: this.settings.maxPointsPerMessage,
      });
    } catch (err) {
      if (err instanceof TooManyPointsError) throw new TelemetryError(TelemetryErrorCode.TOO_MANY_POINTS, err.message);
      if (err instanceof NotPointsError) throw new TelemetryError(TelemetryErrorCode.PAYLOAD_INVALID, err.message);
      throw err;
    }
    if (checked.accepted.length === 0) {
      throw new TelemetryError(TelemetryErrorCode.PAYLOAD_INVALID, 'No value of this message fits the device’s thing model', {
        refused: checked.refused,
      });
    }
    const owners = await this.ownersOf(device);
    const answer = await this.quota.take(owners, checked.accepted.length);
    if (!answer.taken) throw TelemetryError.quotaExceeded(answer.retryAfterSeconds, device.tenantId);
    await this.producer.send(device.tenantId, device.id, checked.accepted);
    this.activity.seen(device.tenantId, device.id);
    return { accepted: checked.accepted.length, refused: checked.refused };
  }

  /** The device if the sender may send for it; any other reads as missing. */
  async deviceFor(sender: Sender, deviceId: string): Promise<KnownDevice> {
    const device = await this.known(deviceId);
    const allowed =
      device !== undefined &&
      ('device' in sender
        ? device.id === sender.device.deviceId || device.gatewayId === sender.device.deviceId
        : canManage(sender.principal.tenant, { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath }));
    if (!device || !allowed) {
      if ('device' in sender && deviceId === sender.device.deviceId) {
        // Authenticated by the registry, but its registration has not reached this service yet.
        throw new TelemetryError(TelemetryErrorCode.DEVICE_NOT_KNOWN_YET, `Device ${deviceId} is not known here yet; retry in a moment`);
      }
      throw TelemetryError.deviceNotFound(deviceId);
    }
    if (device.status === 'suspended' || device.status === 'decommissioned') {
      throw new TelemetryError(TelemetryErrorCode.DEVICE_NOT_ACTIVE, `Device ${deviceId} is ${device.status}; it sends no telemetry`);
    }
    return device;
  }

  private async known(deviceId: string): Promise<KnownDevice | undefined> {
    let device = this.devices.get(deviceId);
    if (!device) {
      device = await this.deviceRows.find(deviceId);
      if (device) this.devices.set(deviceId, device);
    }
    return device;
  }

  private async ownersOf(device: KnownDevice): Promise<KnownTenant[]> {
    const missing = device.tenantPath.filter((id) => !this.tenants.has(id));
    if (missing.length > 0) for (const [id, t] of await this.tenantRows.findMany(missing)) this.tenants.set(id, t);
    const owners = device.tenantPath.map((id) => this.tenants.get(id)).filter((t): t is KnownTenant => t !== undefined);
    if (!owners.some((t) => t.id === device.tenantId)) {
      throw new TelemetryError(
        TelemetryErrorCode.DEVICE_NOT_KNOWN_YET,
        `Tenant ${device.tenantId} is not known here yet; retry in a moment`,
      );
    }
    return owners;
  }
}
