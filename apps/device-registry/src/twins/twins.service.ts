import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TwinEventData } from '@iip/contracts';
import { Principal } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { DevicesService } from '../devices/devices.service';
import { DeviceRegistryOutbox } from '../messaging/device-registry-outbox';
import { ModelsService } from '../models/models.service';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { JsonObject, applyMergePatch, twinDelta } from './twin-document';
import { TwinRow, TwinsRepository } from './twins.repository';

/** Largest twin document (desired or reported), as JSON text. */
export const MAX_TWIN_DOCUMENT_BYTES = 256 * 1024;

export type TwinSide = 'desired' | 'reported';

export interface TwinDocumentView {
  document: JsonObject;
  version: number;
  /** The document's shape, each leaf the time it last changed. */
  metadata: JsonObject;
}

export interface TwinView {
  deviceId: string;
  desired: TwinDocumentView;
  reported: TwinDocumentView;
  /** What desired asks that reported does not say yet. */
  delta: JsonObject;
}

/** Desired and reported documents of devices, validated against their thing model; each change is an event. */
@Injectable()
export class TwinsService {
  constructor(
    private readonly twins: TwinsRepository,
    private readonly devices: DevicesService,
    private readonly models: ModelsService,
    private readonly outbox: DeviceRegistryOutbox,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async get(actor: Principal, deviceId: string, authorization?: string): Promise<TwinView> {
    const device = await this.devices.readableRow(actor, deviceId, authorization);
    return viewOf(deviceId, await this.twins.find(device.tenantId, deviceId));
  }

  /**
   * Applies a JSON Merge Patch to one side. Desired may set only read-write properties; both
   * sides must fit the device's model (every bad path is named); `expectedVersion` (If-Match)
   * guards against a concurrent writer.
   */
  async patch(actor: Principal, deviceId: string, side: TwinSide, patch: JsonObject, expectedVersion?: number): Promise<TwinView> {
    if (Buffer.byteLength(JSON.stringify(patch)) > MAX_TWIN_DOCUMENT_BYTES) throw tooLarge(side);
    const saved = await this.dataSource.transaction(async (manager) => {
      const device = await this.devices.managedRow(actor, deviceId, manager);
      if (device.status === 'decommissioned') {
        throw new DeviceRegistryError(
          DeviceRegistryErrorCode.LIFECYCLE_TRANSITION_NOT_ALLOWED,
          `Device ${deviceId} is decommissioned; its twin no longer changes`,
        );
      }
      const twin = await this.twins.lock(manager, device.tenantId, deviceId);
      const version = side === 'desired' ? twin.desiredVersion : twin.reportedVersion;
      if (expectedVersion !== undefined && expectedVersion !== version) {
        throw new DeviceRegistryError(
          DeviceRegistryErrorCode.VERSION_CONFLICT,
          `The ${side} document of device ${deviceId} is at version ${version}, not ${expectedVersion}`,
          {
            version,
          },
        );
      }
      const now = new Date().toISOString();
      const patched = applyMergePatch(
        side === 'desired' ? twin.desired : twin.reported,
        side === 'desired' ? twin.desiredMeta : twin.reportedMeta,
        patch,
        now,
      );
      if (!patched.changed) return twin;
      const model = await this.models.compiledFor(device.modelId, device.modelVersion, manager);
      const problems = (side === 'desired' ? model.desired : model.reported)(patched.document, side);
      if (problems.length > 0) throw new RequestValidationError(problems);
      if (Buffer.byteLength(JSON.stringify(patched.document)) > MAX_TWIN_DOCUMENT_BYTES) throw tooLarge(side);
      const next = { tenantId: device.tenantId, deviceId, document: patched.document, metadata: patched.metadata, version: version + 1 };
      await this.twins.save(manager, side, next);
      const after: TwinRow =
        side === 'desired'
          ? { ...twin, desired: next.document, desiredMeta: next.metadata, desiredVersion: next.version }
          : { ...twin, reported: next.document, reportedMeta: next.metadata, reportedVersion: next.version };
      const data: TwinEventData = {
        deviceId,
        tenantId: device.tenantId,
        side,
        version: next.version,
        patch,
        delta: twinDelta(after.desired, after.reported),
      };
      await this.outbox.twinChanged(manager, data);
      return after;
    });
    return viewOf(deviceId, saved);
  }
}

function tooLarge(side: TwinSide): DeviceRegistryError {
  return new DeviceRegistryError(
    DeviceRegistryErrorCode.TWIN_TOO_LARGE,
    `The ${side} document may hold at most ${MAX_TWIN_DOCUMENT_BYTES / 1024} KB of JSON`,
  );
}

function viewOf(deviceId: string, twin: TwinRow | undefined): TwinView {
  const desired = twin?.desired ?? {};
  const reported = twin?.reported ?? {};
  return {
    deviceId,
    desired: { document: desired, version: twin?.desiredVersion ?? 0, metadata: twin?.desiredMeta ?? {} },
    reported: { document: reported, version: twin?.reportedVersion ?? 0, metadata: twin?.reportedMeta ?? {} },
    delta: twinDelta(desired, reported),
  };
}
