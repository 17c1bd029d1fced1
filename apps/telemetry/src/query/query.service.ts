import { Inject, Injectable } from '@nestjs/common';
import { DataGrantCheck, Principal, relationTo } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { DevicesRepository, KnownDevice } from '../devices/devices.repository';
import { LatestValues } from '../storage/latest-values';
import { AggregateRow, PointsReader, valueOfRow } from '../storage/points-store';
import { TelemetryError } from '../telemetry.errors';
import { isTimeZone, planBuckets } from './buckets';
import { DeviceSelection, DeviceSelector, MAX_SELECTED_DEVICES, fleetQueryOf } from './device-selector';

export const QUERY_SETTINGS = Symbol('QUERY_SETTINGS');

export interface QuerySettings {
  timeZone: string;
  rawRetentionDays: number;
}

export interface RangeQuery {
  property: string;
  from: string;
  to: string;
}

/** The data scope a tenant grants (POST /v1/tenants/{id}/grants at tenancy) to let another read its devices' raw points. */
export const TELEMETRY_READ_GRANT = 'telemetry:read';
/** Buckets one aggregate may return per device. */
const MAX_BUCKETS = 10_000;

/**
 * Reads of telemetry, with device-registry's visibility: a tenant reads its own devices' and its
 * subtree's points; a park reads its members' aggregates, and their raw points only where the
 * member granted it telemetry:read (as may any tenant a device's tenant granted it).
 * `authorization` is the caller's bearer: tenancy is asked about grants, and the registry about
 * selections, as the caller.
 */
@Injectable()
export class QueryService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly reader: PointsReader,
    private readonly latestValues: LatestValues,
    private readonly grants: DataGrantCheck,
    private readonly selector: DeviceSelector,
    @Inject(QUERY_SETTINGS) private readonly settings: QuerySettings,
  ) {}

  async raw(actor: Principal, deviceId: string, q: RangeQuery & { limit: number; after?: Date }, authorization?: string) {
    const device = await this.readable(actor, deviceId, 'raw', authorization);
    const { from, to } = range(q);
    const rows = await this.reader.raw({
      tenantId: device.tenantId,
      deviceId,
      property: q.property,
      from,
      to,
      after: q.after,
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    return {
      items: page.map((r) => ({ ts: r.ts.toISOString(), value: valueOfRow(r) })),
      nextCursor: rows.length > q.limit ? page[page.length - 1].ts.toISOString() : null,
    };
  }

  async latest(actor: Principal, deviceId: string, authorization?: string) {
    return this.latestOf(await this.readable(actor, deviceId, 'raw', authorization));
  }

  /** The newest values of several devices: named (each must be readable) or selected (those readable of the selection). */
  async latestMany(actor: Principal, selection: DeviceSelection, authorization?: string) {
    const devices = await this.selected(actor, selection, 'raw', authorization);
    return { items: await Promise.all(devices.map((d) => this.latestOf(d))) };
  }

  private async latestOf(device: KnownDevice) {
    const deviceId = device.id;
    const cached = await this.latestValues.of(deviceId).catch(() => ({}));
    if (Object.keys(cached).length > 0) return { deviceId, values: cached };
    // Redis lost it (a restart): the points have it.
    const since = new Date(Date.now() - this.settings.rawRetentionDays * 86_400_000);
    const rows = await this.reader.latest(device.tenantId, deviceId, since);
    return { deviceId, values: Object.fromEntries(rows.map((r) => [r.property, { ts: r.ts.toISOString(), value: valueOfRow(r) }])) };
  }

  async aggregate(
    actor: Principal,
    selection: DeviceSelection,
    q: RangeQuery & { bucket: string; tz?: string },
    authorization?: string,
  ): Promise<{ buckets: AggregateRow[]; source: string }> {
    const { from, to } = range(q);
    const devices = await this.selected(actor, selection, 'aggregate', authorization);
    const zone = q.tz ?? this.settings.timeZone;
    if (!isTimeZone(zone)) throw new RequestValidationError([{ field: 'tz', message: `${zone} is not an IANA time zone` }]);
    const plan = planBuckets(q.bucket, zone, from, to, this.settings.timeZone);
    if ('error' in plan) throw new RequestValidationError([{ field: 'bucket', message: plan.error }]);
    if (devices.length === 0) return { buckets: [], source: plan.source };
    const buckets = await this.reader.aggregate({
      devices: devices.map((d) => ({ tenantId: d.tenantId, deviceId: d.id })),
      property: q.property,
      from,
      to,
      timeZone: zone,
      ...plan,
    });
    if (buckets.length > MAX_BUCKETS * devices.length) {
      throw new RequestValidationError([{ field: 'bucket', message: 'too many buckets: ask for a shorter range or wider buckets' }]);
    }
    return { buckets, source: plan.source };
  }

  /**
   * The devices of a selection the actor may read this way. Named devices must each be readable
   * (any other is a 404); of selected ones, those telemetry does not know yet or the actor may
   * not read this way are left out.
   */
  private async selected(actor: Principal, selection: DeviceSelection, how: 'raw' | 'aggregate', authorization?: string) {
    const query = fleetQueryOf(selection);
    if (query === undefined) {
      const ids = [...new Set((selection.deviceIds ?? []).map((d) => d.toLowerCase()))];
      if (ids.length === 0 || ids.length > MAX_SELECTED_DEVICES) {
        throw new RequestValidationError([{ field: 'deviceIds', message: `name 1 to ${MAX_SELECTED_DEVICES} devices` }]);
      }
      return Promise.all(ids.map((id) => this.readable(actor, id, how, authorization)));
    }
    const ids = await this.selector.resolve(authorization, query);
    const devices = await Promise.all(ids.map((id) => this.readable(actor, id, how, authorization).catch(() => undefined)));
    return devices.filter((d): d is KnownDevice => d !== undefined);
  }

  /** The device, if the actor may read it this way; any other reads as missing. */
  async readable(actor: Principal, deviceId: string, how: 'raw' | 'aggregate', authorization?: string): Promise<KnownDevice> {
    const device = await this.devices.find(deviceId);
    const relation = device ? relationTo(actor.tenant, { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath }) : 'none';
    const allowed =
      relation === 'self' || relation === 'ancestor' || relation === 'operator' || (relation === 'park' && how === 'aggregate');
    if (device && allowed) return device;
    // Raw points by explicit grant: tenancy's CheckAccess (a second's cache), with the caller's token.
    if (device && how === 'raw' && (await this.grants.granted(authorization, actor.tenant.id, device.tenantId, TELEMETRY_READ_GRANT)))
      return device;
    throw TelemetryError.deviceNotFound(deviceId);
  }
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export function range(q: { from: string; to: string }): { from: Date; to: Date } {
  const errors = [];
  if (!INSTANT.test(q.from)) errors.push({ field: 'from', message: 'must be an ISO 8601 instant with an offset' });
  if (!INSTANT.test(q.to)) errors.push({ field: 'to', message: 'must be an ISO 8601 instant with an offset' });
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (errors.length === 0 && (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())))
    errors.push({ field: 'from', message: 'is not a real instant' });
  if (errors.length === 0 && from >= to) errors.push({ field: 'to', message: 'must be after from' });
  if (errors.length > 0) throw new RequestValidationError(errors);
  return { from, to };
}
