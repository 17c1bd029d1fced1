import { Inject, Injectable } from '@nestjs/common';
import { EventSources, TelemetryEventTypes, Topics, WorkOrderOutcome, WorkOrderStatus } from '@iip/contracts';
import { Principal, TenantKind, canManage } from '@iip/platform-auth';
import { FieldError, RequestValidationError } from '@iip/platform-errors';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';
import { ThingModelDefinition, convertUnit } from '@iip/thing-model';
import { DevicesRepository, KnownDevice } from '../devices/devices.repository';
import { REGISTRY_CLIENT, RegistryClient } from '../registry/registry-client';
import { TELEMETRY_OUTBOX } from '../rules/rule-engine';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';
import { MEASURES, MEASURE_UNITS, Measure, HealthProfile } from './evaluation';
import { BearingLimits, BestEfficiencyPoint, Foundation, MachineGroup, ZoneBoundaries, zoneBoundaries } from './health';
import { HealthView, workOrderEventOf } from './health-evaluator';
import { MaintenanceRepository, ProfileRow, WorkOrderRow } from './maintenance.repository';
import { ProfiledDevices } from './profiled-devices';

export const PROFILED_DEVICES = Symbol('PROFILED_DEVICES');

export interface ProfileInput {
  properties: Partial<Record<Measure, string>> & { vibration: string };
  machineGroup: MachineGroup;
  foundation: Foundation;
  bestEfficiencyPoint?: BestEfficiencyPoint;
  bearingTemperatureLimits?: BearingLimits;
}

export interface ProfileView {
  targetId: string;
  target: 'device' | 'model';
  tenantId: string;
  modelVersion: number;
  properties: ProfileRow['properties'];
  machineGroup: MachineGroup;
  foundation: Foundation;
  zoneBoundaries: ZoneBoundaries;
  bestEfficiencyPoint: BestEfficiencyPoint | null;
  bearingTemperatureLimits: BearingLimits | null;
  version: number;
  updatedAt: string;
}

export interface WorkOrderView {
  id: string;
  tenantId: string;
  deviceId: string;
  status: WorkOrderStatus;
  reason: string;
  dueDate: string;
  outcome: WorkOrderOutcome | null;
  notes: string | null;
  openedAt: string;
  closedAt: string | null;
  version: number;
  /** How many predictions this order stands for, and the newest. */
  predictions: number;
  lastPrediction: WorkOrderRow['prediction'];
}

export type DeviceHealthView = HealthView & { evaluatedAt: string; evaluations: number; workOrderId: string | null };

const NUMERIC = new Set(['int', 'float', 'double']);

const profileView = (p: ProfileRow): ProfileView => ({
  targetId: p.targetId,
  target: p.target,
  tenantId: p.tenantId,
  modelVersion: p.modelVersion,
  properties: p.properties,
  machineGroup: p.machineGroup,
  foundation: p.foundation,
  zoneBoundaries: zoneBoundaries(p.machineGroup, p.foundation),
  bestEfficiencyPoint: p.bestEfficiencyPoint,
  bearingTemperatureLimits: p.bearingLimits,
  version: p.version,
  updatedAt: new Date(p.updatedAt).toISOString(),
});

export const workOrderView = (o: WorkOrderRow): WorkOrderView => ({
  ...workOrderEventOf(o),
  notes: o.notes,
  predictions: o.predictions,
  lastPrediction: o.prediction,
});

/**
 * Rotating-equipment maintenance: health profiles (checked against the thing model), the
 * devices' health as the evaluator left it, and the work orders its predictions open.
 */
@Injectable()
export class MaintenanceService {
  constructor(
    private readonly repository: MaintenanceRepository,
    private readonly devices: DevicesRepository,
    @Inject(REGISTRY_CLIENT) private readonly registry: RegistryClient,
    @Inject(TELEMETRY_OUTBOX) private readonly outbox: OutboxWriter,
    @Inject(PROFILED_DEVICES) private readonly profiled: ProfiledDevices,
  ) {}

  /** Puts the profile of a device (its own model version) or of a model (its latest published version, for the caller's subtree). */
  async putProfile(actor: Principal, targetId: string, input: ProfileInput): Promise<ProfileView> {
    const device = await this.managedDevice(actor, targetId);
    let target: { tenantId: string; kind: 'device' | 'model'; version: number; definition: ThingModelDefinition };
    if (device) {
      const model = await this.registry.model(device.modelId, device.modelVersion);
      target = { tenantId: device.tenantId, kind: 'device', version: device.modelVersion, definition: model.definition };
    } else {
      const model = await this.registry.latestModel(targetId).catch((err: unknown) => {
        if (err instanceof TelemetryError && err.code === TelemetryErrorCode.DEVICE_NOT_FOUND) return undefined;
        throw err;
      });
      const t = actor.tenant;
      if (!model || !(t.kind === 'platform' || model.tenantId === t.id || t.path.includes(model.tenantId))) throw notFound(targetId);
      target = { tenantId: t.id, kind: 'model', version: model.version, definition: model.definition };
    }
    const conversions = checkProfile(input, target.definition);
    const saved = await this.repository.saveProfile({
      tenantId: target.tenantId,
      targetId,
      target: target.kind,
      modelVersion: target.version,
      properties: input.properties,
      conversions,
      machineGroup: input.machineGroup,
      foundation: input.foundation,
      bestEfficiencyPoint: input.bestEfficiencyPoint ?? null,
      bearingLimits: input.bearingTemperatureLimits ?? null,
    });
    // The evaluator here sees the profile from its next batch on.
    await this.profiled.invalidate();
    return profileView(saved);
  }

  async getProfile(actor: Principal, targetId: string): Promise<ProfileView> {
    return profileView(await this.profileOf(actor, targetId));
  }

  async deleteProfile(actor: Principal, targetId: string): Promise<void> {
    const p = await this.profileOf(actor, targetId);
    await this.repository.deleteProfile(p.tenantId, p.targetId);
    await this.profiled.invalidate();
  }

  async health(actor: Principal, deviceId: string): Promise<DeviceHealthView> {
    const device = await this.managedDevice(actor, deviceId);
    const row = device ? await this.repository.health(deviceId) : undefined;
    if (!device || !row) {
      throw new TelemetryError(
        TelemetryErrorCode.HEALTH_NOT_FOUND,
        `Device ${deviceId} has no health evaluation (it needs a maintenance profile and a whole hour of its data)`,
      );
    }
    const [open] = await this.repository.listOrders({ tenantId: device.tenantId, platform: false }, { status: 'open', deviceId, limit: 1 });
    return {
      ...(row.health as unknown as HealthView),
      evaluatedAt: new Date(row.evaluatedAt).toISOString(),
      evaluations: Number(row.evaluations),
      workOrderId: open?.id ?? null,
    };
  }

  async listWorkOrders(actor: Principal, filter: { status?: WorkOrderStatus; deviceId?: string; limit: number }): Promise<WorkOrderView[]> {
    const rows = await this.repository.listOrders({ tenantId: actor.tenant.id, platform: actor.tenant.kind === 'platform' }, filter);
    return rows.map(workOrderView);
  }

  async getWorkOrder(actor: Principal, id: string): Promise<WorkOrderView> {
    const o = await this.repository.findOrder(id);
    if (!o || !canManage(actor.tenant, { id: o.tenantId, kind: o.tenantKind as TenantKind, path: o.tenantPath })) throw orderNotFound(id);
    return workOrderView(o);
  }

  /** Closes a work order with what maintenance found (WorkOrderClosed; a failure counts toward the renewal failure rate); the device's trend starts over. */
  async closeWorkOrder(actor: Principal, id: string, input: { outcome: WorkOrderOutcome; notes?: string }): Promise<WorkOrderView> {
    return this.repository.dataSource.transaction(async (manager) => {
      const peek = await this.repository.findOrder(id);
      if (!peek || !canManage(actor.tenant, { id: peek.tenantId, kind: peek.tenantKind as TenantKind, path: peek.tenantPath }))
        throw orderNotFound(id);
      // The evaluator's lock order: the device's state first, then its order.
      await this.repository.lockStates(manager, [peek.deviceId]);
      const o = await this.repository.lockOrder(manager, id);
      if (!o) throw orderNotFound(id);
      if (o.status === 'closed') throw new TelemetryError(TelemetryErrorCode.WORK_ORDER_CLOSED, `Work order ${id} is closed already`);
      const closed = await this.repository.closeOrder(manager, id, input.outcome, input.notes ?? null, actor.clientId);
      await this.repository.resetTrend(manager, o.deviceId);
      await this.outbox.append(manager, Topics.telemetryMaintenance, [
        createEnvelope({
          type: TelemetryEventTypes.WorkOrderClosed,
          source: EventSources.telemetry,
          tenantId: closed.tenantId,
          subject: closed.deviceId,
          data: workOrderEventOf(closed),
        }),
      ]);
      return workOrderView(closed);
    });
  }

  private async managedDevice(actor: Principal, id: string): Promise<KnownDevice | undefined> {
    const device = await this.devices.find(id);
    return device && canManage(actor.tenant, { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath })
      ? device
      : undefined;
  }

  private async profileOf(actor: Principal, targetId: string): Promise<ProfileRow> {
    const device = await this.managedDevice(actor, targetId);
    const p = await this.repository.findProfile(device ? device.tenantId : actor.tenant.id, targetId);
    if (!p) throw notFound(targetId);
    return p;
  }
}

function notFound(id: string): TelemetryError {
  return new TelemetryError(TelemetryErrorCode.MAINTENANCE_PROFILE_NOT_FOUND, `No maintenance profile of a device or model ${id}`);
}

function orderNotFound(id: string): TelemetryError {
  return new TelemetryError(TelemetryErrorCode.WORK_ORDER_NOT_FOUND, `Work order ${id} was not found`);
}

/**
 * A profile against its model: every mapped property exists, is numeric and has a unit that
 * converts into the measure's (none is taken as the measure's own); what the measures need
 * beside them is given. Returns each measure's linear conversion; a 400 names each bad field.
 */
export function checkProfile(input: ProfileInput, model: ThingModelDefinition): HealthProfile['conversions'] {
  const errors: FieldError[] = [];
  const conversions: HealthProfile['conversions'] = {};
  for (const m of MEASURES) {
    const name = input.properties[m];
    if (name === undefined) continue;
    const field = `properties.${m}`;
    const def = Object.prototype.hasOwnProperty.call(model.properties, name) ? model.properties[name] : undefined;
    if (!def) {
      errors.push({ field, message: `${name} is not a property of the thing model` });
      continue;
    }
    if (!NUMERIC.has(def.type)) {
      errors.push({ field, message: `${name} is of type ${def.type}; a ${m} property must be numeric (int, float, double)` });
      continue;
    }
    const unit = def.unit ?? MEASURE_UNITS[m];
    const zero = convertUnit(0, unit, MEASURE_UNITS[m]);
    const one = convertUnit(1, unit, MEASURE_UNITS[m]);
    if ('error' in zero || 'error' in one) {
      errors.push({ field, message: `${name} is in ${unit}, which does not convert to ${MEASURE_UNITS[m]}` });
      continue;
    }
    conversions[m] = { scale: one.value - zero.value, offset: zero.value };
  }
  const p = input.properties;
  if (p.head !== undefined && p.pressure !== undefined)
    errors.push({ field: 'properties.pressure', message: 'map the head or the pressure, not both' });
  if (p.flow !== undefined && !input.bestEfficiencyPoint)
    errors.push({ field: 'bestEfficiencyPoint', message: 'is needed to judge the flow (the rated flow, head and power at the BEP)' });
  if (p.bearingTemperature !== undefined && !input.bearingTemperatureLimits)
    errors.push({ field: 'bearingTemperatureLimits', message: 'is needed to judge the bearing temperature' });
  const limits = input.bearingTemperatureLimits;
  if (limits && !(limits.warning < limits.alarm))
    errors.push({ field: 'bearingTemperatureLimits.alarm', message: 'must be above the warning limit' });
  if (errors.length > 0) throw new RequestValidationError(errors);
  return conversions;
}
