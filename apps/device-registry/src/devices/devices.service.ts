import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import {
  DeviceEventData,
  DeviceLifecycleState,
  DeviceRegistryEventType,
  DeviceRegistryEventTypes,
  IdentifierChangedData,
  EventSources,
} from '@iip/contracts';
import { Principal, canManage } from '@iip/platform-auth';
import { Page, encodeCursor, readCursor } from '@iip/platform-http';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { DeviceRegistryOutbox } from '../messaging/device-registry-outbox';
import { ModelsService } from '../models/models.service';
import { targetTenant } from '../tenants/tenant-scope';
import { DEVICES_READ_GRANT, TenancyAccess } from '../tenants/tenancy-access';
import { DEVICE_REGISTRY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { CountField, CreateDeviceInput, LifecycleInput, UpdateDeviceInput } from './dto/device.dto';
import { DeviceRow, DevicesRepository } from './devices.repository';
import { allowedFrom, canMove } from './lifecycle';
import { GROUPABLE_FIELDS, compileFleetQuery, fieldSql } from '../fleet/fleet-query';

export type GroupableField = (typeof GROUPABLE_FIELDS)[number];

/** The fleet field each /v1/devices/counts grouping is (tenantId comes validated as a UUID). */
const COUNTED_FIELD: Record<CountField, GroupableField> = {
  status: 'status',
  category: 'profile.category',
  model: 'model.id',
  tenant: 'tenantId',
  efficiencyGrade: 'profile.efficiencyGrade',
  criticality: 'profile.criticality',
};

export interface DeviceView {
  id: string;
  tenantId: string;
  name: string;
  manufacturer: string;
  serial: string;
  model: { id: string; name: string; version: number };
  status: DeviceRow['status'];
  /** The device's industrial internet identifier; null until identifier has registered it. */
  handle: string | null;
  tags: Record<string, string>;
  gatewayId: string | null;
  profile: DeviceRow['profile'];
  /** The device this one replaced in a renewal project, and the one that replaced it (ids). */
  replaces: string | null;
  replacedBy: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const REGISTRY_SETTINGS = Symbol('REGISTRY_SETTINGS');
export interface RegistrySettings {
  publicUrl: string;
}

/** Registering devices, changing them and moving them through their lifecycle; every change is an event. */
@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly tenants: TenantsRepository,
    private readonly models: ModelsService,
    private readonly outbox: DeviceRegistryOutbox,
    private readonly access: TenancyAccess,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  async register(actor: Principal, input: CreateDeviceInput): Promise<DeviceView> {
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      const owner = await targetTenant(this.tenants, actor, input.tenantId, manager);
      const usable = await this.models.usable(owner, input.model.id, input.model.version, manager);
      if (input.gatewayId) await this.checkGateway(manager, owner.id, input.gatewayId, id);
      // One registration at a time per tenant, so the count below is the count.
      await this.tenants.lockForQuota(manager, owner.id);
      // A device registered again is "taken" whatever the quota says.
      if ((await this.devices.idsBySerial(manager, owner.id, [input])).size > 0) throw serialTaken(input.manufacturer, input.serial);
      const active = await this.devices.countActive(manager, owner.id);
      if (active >= owner.maxDevices) {
        throw new DeviceRegistryError(
          DeviceRegistryErrorCode.DEVICE_QUOTA_EXCEEDED,
          `Tenant ${owner.id} has ${active} devices, its quota (maxDevices ${owner.maxDevices}); decommission one or ask for a larger quota`,
          { maxDevices: owner.maxDevices, devices: active },
        );
      }
      const inserted = await this.devices.insertMany(manager, [
        {
          tenantId: owner.id,
          id,
          tenantPath: owner.path,
          tenantKind: owner.kind,
          name: input.name,
          manufacturer: input.manufacturer,
          serial: input.serial,
          modelTenantId: usable.model.tenantId,
          modelId: usable.model.id,
          modelVersion: usable.version.version,
          status: input.status ?? 'provisioned',
          handleSuffix: `dev.${id}`,
          tags: input.tags ?? {},
          gatewayId: input.gatewayId ?? null,
          profile: input.profile ?? {},
        },
      ]);
      // Registered by a concurrent request since the check above.
      if (!inserted.has(id)) throw serialTaken(input.manufacturer, input.serial);
      await this.announce(manager, DeviceRegistryEventTypes.DeviceRegistered, id);
    });
    return this.get(actor, id);
  }

  /** A device the actor manages, or one whose tenant granted the actor `devices:read` (`authorization`: the caller's bearer, to ask tenancy). */
  async get(actor: Principal, id: string, authorization?: string): Promise<DeviceView> {
    return viewOf(await this.readableRow(actor, id, authorization));
  }

  async readableRow(actor: Principal, id: string, authorization?: string): Promise<DeviceRow> {
    const device = await this.devices.find(id);
    if (!device) throw DeviceRegistryError.deviceNotFound(id);
    const owner = { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath };
    if (canManage(actor.tenant, owner) || (await this.access.granted(authorization, actor.tenant.id, device.tenantId, DEVICES_READ_GRANT)))
      return device;
    throw DeviceRegistryError.deviceNotFound(id);
  }

  /** The devices the actor manages (of one tenant, with `tenantId`; matching the fleet query `q`, when given). */
  list(actor: Principal, tenantId: string | undefined, limit: number, cursor?: string, q = ''): Promise<Page<DeviceView>> {
    // The query is parsed on its own first, so its errors name positions in what the caller wrote.
    compileFleetQuery(q, 4);
    const conditions = [tenantId ? `tenantId = '${tenantId}'` : '', q.trim() ? `(${q})` : ''].filter(Boolean);
    return this.search(actor, conditions.join(' AND '), limit, cursor);
  }

  /** Counts by a field: a park counts its members' devices too (it reads none of them). */
  async count(
    actor: Principal,
    by: CountField,
    tenantId?: string,
  ): Promise<{ by: CountField; total: number; groups: { value: string | null; count: number }[] }> {
    const counted = await this.searchCounts(actor, tenantId ? `tenantId = '${tenantId}'` : '', COUNTED_FIELD[by]);
    return { by, total: counted.total, groups: counted.groups };
  }

  /** The fleet query over the devices the actor manages (`q`: see fleet-query.ts), in id order. */
  async search(actor: Principal, q: string, limit: number, cursor?: string): Promise<Page<DeviceView>> {
    const after = cursor ? (readCursor(cursor, ['uuid'])[0] as string) : undefined;
    const rows = await this.devices.query(actor.tenant, compileFleetQuery(q, 4), limit + 1, after);
    const page = rows.slice(0, limit);
    return { items: page.map(viewOf), nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1].id]) : null };
  }

  /** How many devices match, grouped by a field; a park counts its members' devices (it reads none of them). */
  async searchCounts(
    actor: Principal,
    q: string,
    groupBy?: GroupableField,
  ): Promise<{ groupBy: GroupableField | null; total: number; groups: { value: string | null; count: number }[] }> {
    const group = groupBy ? (fieldSql(groupBy) as { sql: string }).sql : undefined;
    const groups = await this.devices.queryCounts(actor.tenant, compileFleetQuery(q, 2), group);
    return { groupBy: groupBy ?? null, total: groups.reduce((n, g) => n + g.count, 0), groups: groupBy ? groups : [] };
  }

  async update(actor: Principal, id: string, patch: UpdateDeviceInput, expectedVersion?: number): Promise<DeviceView> {
    await this.dataSource.transaction(async (manager) => {
      const device = await this.managedRow(actor, id, manager);
      this.checkVersion(device, expectedVersion);
      if (device.status === 'decommissioned') throw transitionRefused(device, 'changed');
      if (patch.gatewayId) await this.checkGateway(manager, device.tenantId, patch.gatewayId, id);
      await this.devices.update(manager, {
        ...device,
        name: patch.name ?? device.name,
        tags: patch.tags ?? device.tags,
        gatewayId: patch.gatewayId === undefined ? device.gatewayId : patch.gatewayId,
        profile: patch.profile ?? device.profile,
        version: device.version + 1,
      });
      await this.announce(manager, DeviceRegistryEventTypes.DeviceUpdated, id);
    });
    return this.get(actor, id);
  }

  async moveTo(actor: Principal, id: string, input: LifecycleInput, expectedVersion?: number): Promise<DeviceView> {
    await this.dataSource.transaction(async (manager) => {
      const device = await this.managedRow(actor, id, manager);
      this.checkVersion(device, expectedVersion);
      if (device.status === input.status) return;
      await this.changeStatus(manager, device, input.status);
    });
    return this.get(actor, id);
  }

  /** The lifecycle step itself (a locked row, in the caller's transaction): the device moves and announces it. */
  private async changeStatus(manager: EntityManager, device: DeviceRow, status: DeviceLifecycleState): Promise<void> {
    if (!canMove(device.status, status)) throw transitionRefused(device, `moved to ${status}`);
    await this.devices.update(manager, { ...device, status, version: device.version + 1 });
    await this.announce(manager, DeviceRegistryEventTypes.DeviceStatusChanged, device.id);
  }

  /**
   * A renewal project's replacement, in the caller's transaction, of rows it locked with
   * managedRow: the old device is decommissioned by the lifecycle's own step, both devices record
   * the link, and both announce it (their events carry each other's handle).
   */
  async recordReplacement(manager: EntityManager, old: DeviceRow, replacement: DeviceRow): Promise<void> {
    await this.devices.link(manager, old, replacement);
    await this.changeStatus(manager, old, 'decommissioned');
    await this.devices.update(manager, { ...replacement, version: replacement.version + 1 });
    await this.announce(manager, DeviceRegistryEventTypes.DeviceUpdated, replacement.id);
  }

  /**
   * identifier announced a device's identifier: keep it on the device. A device linked to it by a
   * replacement announces itself again once the handle is first known, so its identifier gets
   * the IIP_REPLACES / IIP_REPLACED_BY value that had to wait for it.
   */
  async identifierAnnounced(manager: EntityManager, change: IdentifierChangedData): Promise<void> {
    if (change.origin?.source !== EventSources.deviceRegistry || change.change === 'deleted') return;
    if (!(await this.devices.setHandle(manager, change.origin.id, change.handle))) return;
    const device = await this.devices.find(change.origin.id, manager);
    for (const partner of [device?.replaces, device?.replacedBy]) {
      if (partner) await this.announce(manager, DeviceRegistryEventTypes.DeviceUpdated, partner);
    }
  }

  private async announce(manager: EntityManager, type: DeviceRegistryEventType, id: string): Promise<void> {
    const d = await this.devices.find(id, manager);
    if (!d) throw DeviceRegistryError.deviceNotFound(id);
    const linked = [d.replaces, d.replacedBy].filter((x): x is string => x !== null);
    const handles = await this.devices.handlesOf(manager, linked);
    await this.outbox.deviceChanged(manager, type, {
      ...this.eventData(d),
      // Only on linked devices, so every other device's events stay as they were.
      ...(d.replaces ? { replacesHandle: handles.get(d.replaces) ?? null } : {}),
      ...(d.replacedBy ? { replacedByHandle: handles.get(d.replacedBy) ?? null } : {}),
    });
  }

  /** A device as its events carry it (the replacement links' handles are added by announce). */
  eventData(d: Omit<DeviceRow, 'createdAt' | 'updatedAt' | 'replaces' | 'replacedBy'>): DeviceEventData {
    return {
      id: d.id,
      tenantId: d.tenantId,
      tenantKind: d.tenantKind,
      tenantPath: d.tenantPath,
      name: d.name,
      manufacturer: d.manufacturer,
      serial: d.serial,
      model: { id: d.modelId, name: d.modelName, version: d.modelVersion },
      status: d.status,
      handleSuffix: d.handleSuffix,
      handle: d.handle,
      commissionedOn: d.profile.commissionedOn ?? null,
      category: d.profile.category ?? null,
      gatewayId: d.gatewayId ?? null,
      registryUrl: `${this.settings.publicUrl.replace(/\/$/, '')}/v1/devices/${d.id}`,
      version: d.version,
    };
  }

  /** A device the actor manages (locked in a transaction); any other reads as missing. */
  async managedRow(actor: Principal, id: string, manager?: EntityManager): Promise<DeviceRow> {
    const device = await this.devices.find(id, manager, manager !== undefined);
    if (!device || !canManage(actor.tenant, { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath })) {
      throw DeviceRegistryError.deviceNotFound(id);
    }
    return device;
  }

  private checkVersion(device: DeviceRow, expected?: number): void {
    if (expected !== undefined && expected !== device.version) {
      throw new DeviceRegistryError(
        DeviceRegistryErrorCode.VERSION_CONFLICT,
        `Device ${device.id} is at version ${device.version}, not ${expected}`,
        {
          version: device.version,
        },
      );
    }
  }

  /** A gateway is a live device of the same tenant that is not itself behind a gateway (two levels). */
  async checkGateway(manager: EntityManager, tenantId: string, gatewayId: string, deviceId: string): Promise<void> {
    const gateway = gatewayId === deviceId ? undefined : await this.devices.find(gatewayId, manager);
    const problem =
      !gateway || gateway.tenantId !== tenantId
        ? 'is not a device of this tenant'
        : gateway.status === 'decommissioned'
          ? 'is decommissioned'
          : gateway.gatewayId
            ? 'is itself behind a gateway'
            : undefined;
    if (problem) throw new DeviceRegistryError(DeviceRegistryErrorCode.GATEWAY_INVALID, `Gateway ${gatewayId} ${problem}`);
  }
}

function serialTaken(manufacturer: string, serial: string): DeviceRegistryError {
  return new DeviceRegistryError(
    DeviceRegistryErrorCode.SERIAL_TAKEN,
    `A device of ${manufacturer} with serial ${serial} is already registered for this tenant`,
  );
}

function transitionRefused(device: DeviceRow, what: string): DeviceRegistryError {
  const next = allowedFrom(device.status);
  return new DeviceRegistryError(
    DeviceRegistryErrorCode.LIFECYCLE_TRANSITION_NOT_ALLOWED,
    `Device ${device.id} is ${device.status} and cannot be ${what}${next.length ? ` (it can move to ${next.join(', ')})` : ''}`,
  );
}

function viewOf(d: DeviceRow): DeviceView {
  return {
    id: d.id,
    tenantId: d.tenantId,
    name: d.name,
    manufacturer: d.manufacturer,
    serial: d.serial,
    model: { id: d.modelId, name: d.modelName, version: d.modelVersion },
    status: d.status,
    handle: d.handle,
    tags: d.tags,
    gatewayId: d.gatewayId,
    profile: d.profile,
    replaces: d.replaces,
    replacedBy: d.replacedBy,
    version: d.version,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}
