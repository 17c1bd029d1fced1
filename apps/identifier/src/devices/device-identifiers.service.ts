import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DeviceEventData, DeviceRegistryEventTypes, EventSources } from '@iip/contracts';
import { Principal } from '@iip/platform-auth';
import { parseHandle, isHandleSyntaxError } from '../handles/handle-syntax';
import { HandleValueInput } from '../identifiers/dto/handle-value.schema';
import { IdentifiersService } from '../identifiers/identifiers.service';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from '../prefixes/prefixes.service';
import { TemplatesRepository } from '../templates/templates.repository';
import { TemplatesService } from '../templates/templates.service';
import { PrefixEntity } from '../prefixes/prefix.entity';
import { IdentifiersRepository } from '../identifiers/identifiers.repository';
import { IdentifierOutbox } from '../messaging/identifier-outbox';
import { buildValues } from '../identifiers/values';
import { EventEnvelope } from '@iip/platform-kafka';

/** The template every device identifier follows (kind `device`): what the registry announces. */
export const DEVICE_TEMPLATE_KIND = 'device';
export const DEVICE_TEMPLATE_SCHEMA = {
  type: 'object',
  required: ['URL', 'MANUFACTURER', 'SERIAL', 'MODEL', 'STATUS'],
  properties: {
    URL: { type: 'string', format: 'uri' },
    MANUFACTURER: { type: 'string', minLength: 1 },
    SERIAL: { type: 'string', minLength: 1 },
    MODEL: { type: 'string', minLength: 1 },
    STATUS: { enum: ['provisioned', 'active', 'suspended', 'decommissioned'] },
    COMMISSIONED: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
    CATEGORY: { type: 'string' },
    IIP_REPLACES: { type: 'string', minLength: 1 },
    IIP_REPLACED_BY: { type: 'string', minLength: 1 },
  },
};

/** A prefix owned by a tenant this node has not allocated one to yet: the tenant event is on its way. */
export class EnterprisePrefixNotYetAllocated extends Error {}

/**
 * Gives every registered device its industrial internet identifier `<tenant prefix>/<suffix>`
 * from the registry's device events, and keeps its values (status included) current; a
 * decommissioned device's identifier stays resolvable with its status.
 */
@Injectable()
export class DeviceIdentifiersService {
  constructor(
    private readonly identifiers: IdentifiersService,
    private readonly prefixes: PrefixesService,
    private readonly templates: TemplatesRepository,
    private readonly templateRules: TemplatesService,
    private readonly repository: IdentifiersRepository,
    private readonly outbox: IdentifierOutbox,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  /** The `device` template exists from the first start on (a later operator version takes over). */
  async ensureTemplate(): Promise<void> {
    if (!(await this.templates.find(DEVICE_TEMPLATE_KIND)))
      await this.templates.insertNextVersion(DEVICE_TEMPLATE_KIND, DEVICE_TEMPLATE_SCHEMA);
  }

  /**
   * Applies a device event in the consumer's transaction. A not-found answer cached for the new
   * handle is dropped by the change feed when the IdentifierRegistered this writes comes back.
   */
  async applyDeviceEvent(manager: EntityManager, type: string, device: DeviceEventData): Promise<void> {
    if (!Object.values(DeviceRegistryEventTypes).includes(type as never)) return;
    const prefix = await this.prefixes.enterprisePrefixOf(device.tenantId, manager);
    if (!prefix) throw new EnterprisePrefixNotYetAllocated(`Tenant ${device.tenantId} has no enterprise prefix on this node yet`);
    const handle = parseHandle(`${prefix.prefix}/${device.handleSuffix}`);
    if (isHandleSyntaxError(handle)) throw new Error(`Device ${device.id}: ${handle.message}`);
    // The registry acts for the device's tenant, within that tenant's own prefix.
    const actor: Principal = {
      clientId: EventSources.deviceRegistry,
      tenant: { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath },
      scopes: new Set(['identifiers:write']),
      expiresAt: Number.MAX_SAFE_INTEGER,
    };
    await this.identifiers.put(manager, actor, handle, deviceValues(device), {
      overwrite: true,
      template: { kind: DEVICE_TEMPLATE_KIND },
      origin: { source: EventSources.deviceRegistry, id: device.id },
    });
  }

  /**
   * Many device events in the consumer's transaction: registrations of devices without an
   * identifier go in as one multi-row insert (a bulk import's thousands); anything else goes
   * through applyDeviceEvent, one by one, in order.
   */
  async applyDeviceEvents(manager: EntityManager, events: EventEnvelope[]): Promise<void> {
    const registrations = events.filter((e) => e.type === DeviceRegistryEventTypes.DeviceRegistered);
    if (registrations.length !== events.length) {
      for (const e of events) await this.applyDeviceEvent(manager, e.type, e.data as DeviceEventData);
      return;
    }
    const template = await this.templateRules.resolve(DEVICE_TEMPLATE_KIND);
    const prefixes = new Map<string, Awaited<ReturnType<PrefixesService['enterprisePrefixOf']>>>();
    const rows: {
      device: DeviceEventData;
      key: string;
      handle: string;
      prefix: string;
      prefixRow: PrefixEntity;
      tenantId: string;
      input: HandleValueInput[];
    }[] = [];
    for (const e of registrations) {
      const device = e.data as DeviceEventData;
      if (!prefixes.has(device.tenantId)) prefixes.set(device.tenantId, await this.prefixes.enterprisePrefixOf(device.tenantId, manager));
      const prefix = prefixes.get(device.tenantId);
      if (!prefix) throw new EnterprisePrefixNotYetAllocated(`Tenant ${device.tenantId} has no enterprise prefix on this node yet`);
      const handle = parseHandle(`${prefix.prefix}/${device.handleSuffix}`);
      if (isHandleSyntaxError(handle)) throw new Error(`Device ${device.id}: ${handle.message}`);
      const input = deviceValues(device);
      this.templateRules.validate(template, input);
      rows.push({
        device,
        key: handle.key,
        handle: handle.handle,
        prefix: prefix.prefix,
        prefixRow: prefix,
        tenantId: prefix.tenantId ?? device.tenantId,
        input,
      });
    }
    const inserted = await this.repository.insertMany(
      manager,
      rows.map((r) => ({
        key: r.key,
        handle: r.handle,
        prefix: r.prefix,
        tenantId: r.tenantId,
        templateKind: template.kind,
        templateVersion: template.version,
      })),
    );
    const fresh = rows.filter((r) => inserted.has(r.key));
    await this.repository.insertValues(
      manager,
      fresh.flatMap((r) => buildValues(r.input, r.prefixRow, this.node.defaultTtl).map((v) => ({ ...v, key: r.key }))),
    );
    await this.outbox.identifiersRegistered(
      manager,
      fresh.map((r) => ({
        handle: r.handle,
        key: r.key,
        prefix: r.prefix,
        tenantId: r.tenantId,
        version: 1,
        change: 'registered' as const,
        origin: { source: EventSources.deviceRegistry, id: r.device.id },
      })),
    );
    // A device registered again (a replayed event): its identifier is brought up to date.
    for (const r of rows.filter((x) => !inserted.has(x.key)))
      await this.applyDeviceEvent(manager, DeviceRegistryEventTypes.DeviceRegistered, r.device);
  }

  get nodePrefix(): string {
    return this.node.nodePrefix;
  }
}

function deviceValues(d: DeviceEventData): HandleValueInput[] {
  const text = (index: number, type: string, value: string): HandleValueInput => ({ index, type, data: { format: 'string', value } });
  const values = [
    text(1, 'URL', d.registryUrl),
    text(2, 'MANUFACTURER', d.manufacturer),
    text(3, 'SERIAL', d.serial),
    text(4, 'MODEL', `${d.model.name}@${d.model.version}`),
    text(5, 'STATUS', d.status),
  ];
  if (d.commissionedOn) values.push(text(6, 'COMMISSIONED', d.commissionedOn));
  if (d.category) values.push(text(7, 'CATEGORY', d.category));
  // A renewal project's replacement links the two devices' handles; a partner whose handle is not
  // registered yet comes without it, and the registry announces the device again once it is.
  if (d.replacesHandle) values.push(text(8, 'IIP_REPLACES', d.replacesHandle));
  if (d.replacedByHandle) values.push(text(9, 'IIP_REPLACED_BY', d.replacedByHandle));
  return values;
}
