import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import {
  RENEWAL_PROJECT_STATUSES,
  RenewalEventType,
  RenewalEventTypes,
  RenewalProjectEventData,
  RenewalProjectStatus,
} from '@iip/contracts';
import { Principal, TenantRef, canManage, relationTo } from '@iip/platform-auth';
import { FieldError } from '@iip/platform-errors';
import { Page, encodeCursor, readCursor } from '@iip/platform-http';
import { isDeviceRegistryError } from '../device-registry.errors';
import { DevicesRepository } from '../devices/devices.repository';
import { DeviceRegistryOutbox } from '../messaging/device-registry-outbox';
import { ModelsService } from '../models/models.service';
import { targetTenant } from '../tenants/tenant-scope';
import { DEVICE_REGISTRY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { CreateProjectInput, TransitionInput, UpdateProjectInput } from './projects.dto';
import { RenewalProjectError, RenewalProjectErrorCode } from './projects.errors';
import { ProjectRecord, ProjectRow, ProjectsRepository, ReplacementRow } from './projects.repository';

/** Steps at which what was spent may be recorded (the equipment is in). */
const SPENDING_RECORDED_AT: readonly RenewalProjectStatus[] = ['installed', 'verified'];
/** Steps after which the devices and models a project holds stay as they are. */
const SCOPE_FIXED_AT: readonly RenewalProjectStatus[] = ['installed', 'verified'];

/** The step after `from`, or undefined at the last one. */
export function nextStatus(from: RenewalProjectStatus): RenewalProjectStatus | undefined {
  return RENEWAL_PROJECT_STATUSES[RENEWAL_PROJECT_STATUSES.indexOf(from) + 1];
}

export interface ProjectView {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  status: RenewalProjectStatus;
  /** `summary`: a park reading a member's project sees no device or model ids and no handles. */
  view: 'full' | 'summary';
  deviceIds?: string[];
  modelIds?: string[];
  deviceCount: number;
  replacedCount: number;
  estimatedInvestmentCny: number;
  /** Sum of actualInvestments; null while nothing is recorded. */
  actualInvestmentCny: number | null;
  actualInvestments: { year: number; amountCny: number }[];
  funding: { source: string; amountCny: number }[];
  fundingTotalCny: number;
  history: { status: RenewalProjectStatus; at: string; by: string }[];
  replacements?: ReplacementRow[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Renewal projects: what they renew, with what, for how much, and their steps; every change is an event. */
@Injectable()
export class ProjectsService {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly tenants: TenantsRepository,
    private readonly devices: DevicesRepository,
    private readonly models: ModelsService,
    private readonly outbox: DeviceRegistryOutbox,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async create(actor: Principal, input: CreateProjectInput): Promise<ProjectView> {
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      const owner = await targetTenant(this.tenants, actor, input.tenantId, manager);
      await this.checkDevices(manager, owner, id, input.deviceIds);
      await this.checkModels(manager, owner, input.modelIds);
      const row = {
        tenantId: owner.id,
        id,
        name: input.name,
        description: input.description ?? null,
        estimatedInvestmentCny: input.estimatedInvestmentCny,
      };
      await this.projects.insert(manager, row, actor.clientId);
      await this.projects.setDevices(manager, row, input.deviceIds);
      await this.projects.setModels(manager, row, input.modelIds);
      await this.projects.setFunding(manager, row, input.funding ?? []);
      await this.announce(manager, RenewalEventTypes.RenewalProjectCreated, id);
    });
    return this.get(actor, id);
  }

  async get(actor: Principal, id: string): Promise<ProjectView> {
    const record = await this.projects.record(id);
    const view = record && viewFor(actor.tenant, record);
    if (!view) throw RenewalProjectError.notFound(id);
    return view;
  }

  /** The projects the actor sees (a park: its members' as summaries), in id order. */
  async list(
    actor: Principal,
    filter: { tenantId?: string; subtreeOf?: string; status?: RenewalProjectStatus },
    limit: number,
    cursor?: string,
  ): Promise<Page<ProjectView>> {
    const after = cursor ? (readCursor(cursor, ['uuid'])[0] as string) : undefined;
    const rows = await this.projects.list(actor.tenant, filter, limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => viewFor(actor.tenant, r)).filter((v): v is ProjectView => v !== undefined),
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1].id]) : null,
    };
  }

  async update(actor: Principal, id: string, patch: UpdateProjectInput, expectedVersion?: number): Promise<ProjectView> {
    await this.dataSource.transaction(async (manager) => {
      const project = await this.managedForChange(actor, id, manager, expectedVersion);
      const { actualInvestments, ...rest } = patch;
      if (project.status === 'verified' && Object.keys(rest).length > 0) {
        throw stateConflict(project, 'is verified: only its actual investments may still be corrected');
      }
      if ((patch.deviceIds || patch.modelIds) && SCOPE_FIXED_AT.includes(project.status)) {
        throw stateConflict(project, `is ${project.status}: its devices and models no longer change`);
      }
      if (actualInvestments && !SPENDING_RECORDED_AT.includes(project.status)) {
        throw stateConflict(project, `is ${project.status}: actual investments are recorded from installed on`);
      }
      const owner = { id: project.tenantId, kind: project.tenantKind, path: project.tenantPath };
      if (patch.deviceIds) {
        const record = (await this.projects.record(id, manager)) as ProjectRecord;
        const kept = new Set(patch.deviceIds);
        const dropped = record.replacements.filter((r) => !kept.has(r.oldDeviceId));
        if (dropped.length > 0) {
          throw stateConflict(project, `has replaced ${dropped.map((r) => r.oldDeviceId).join(', ')} already; those devices stay in it`);
        }
        await this.checkDevices(
          manager,
          owner,
          id,
          patch.deviceIds.filter((d) => !record.deviceIds.includes(d)),
        );
        await this.projects.setDevices(manager, project, patch.deviceIds);
      }
      if (patch.modelIds) {
        await this.checkModels(manager, owner, patch.modelIds);
        await this.projects.setModels(manager, project, patch.modelIds);
      }
      if (patch.funding) await this.projects.setFunding(manager, project, patch.funding);
      if (actualInvestments) await this.projects.setActualInvestments(manager, project, actualInvestments);
      await this.projects.update(manager, {
        ...project,
        name: patch.name ?? project.name,
        description: patch.description === undefined ? project.description : patch.description,
        estimatedInvestmentCny: patch.estimatedInvestmentCny ?? project.estimatedInvestmentCny,
        version: project.version + 1,
      });
      await this.announce(manager, RenewalEventTypes.RenewalProjectUpdated, id);
    });
    return this.get(actor, id);
  }

  /** One step forward (planned → approved → procured → installed → verified), stamped with when and by whom. */
  async transition(actor: Principal, id: string, input: TransitionInput, expectedVersion?: number): Promise<ProjectView> {
    await this.dataSource.transaction(async (manager) => {
      const project = await this.managedForChange(actor, id, manager, expectedVersion);
      const next = nextStatus(project.status);
      if (input.to !== next) {
        throw new RenewalProjectError(
          RenewalProjectErrorCode.PROJECT_TRANSITION_NOT_ALLOWED,
          `Renewal project ${id} is ${project.status} and cannot move to ${input.to}` +
            (next ? ` (its next step is ${next})` : ' (verified is its last step)'),
          { status: project.status, next: next ?? null },
        );
      }
      if (input.actualInvestments && !SPENDING_RECORDED_AT.includes(input.to)) {
        throw stateConflict(project, `moves to ${input.to}: actual investments are recorded from installed on`);
      }
      if (input.actualInvestments) await this.projects.setActualInvestments(manager, project, input.actualInvestments);
      if (input.to === 'verified') {
        const record = (await this.projects.record(id, manager)) as ProjectRecord;
        if (record.actualInvestments.length === 0)
          throw stateConflict(project, 'has no actual investment recorded; record it to verify the project');
      }
      await this.projects.update(manager, { ...project, status: input.to, version: project.version + 1 });
      await this.projects.addStep(manager, project, input.to, actor.clientId);
      await this.announce(manager, RenewalEventTypes.RenewalProjectTransitioned, id);
    });
    return this.get(actor, id);
  }

  /**
   * A project the actor may change, locked for the transaction: one it manages. A park's
   * member's project it sees but may not change (403); any other reads as missing.
   */
  async managedForChange(actor: Principal, id: string, manager: EntityManager, expectedVersion?: number): Promise<ProjectRow> {
    const project = await this.projects.find(id, manager, true);
    const relation = project ? relationTo(actor.tenant, tenantOf(project)) : 'none';
    if (!project || relation === 'none') throw RenewalProjectError.notFound(id);
    if (!canManage(actor.tenant, tenantOf(project))) {
      throw new RenewalProjectError(
        RenewalProjectErrorCode.PROJECT_READ_ONLY,
        `Renewal project ${id} is a member's; a park reads it, not changes it`,
      );
    }
    if (expectedVersion !== undefined && expectedVersion !== project.version) {
      throw new RenewalProjectError(
        RenewalProjectErrorCode.PROJECT_VERSION_CONFLICT,
        `Renewal project ${id} is at version ${project.version}, not ${expectedVersion}`,
        { version: project.version },
      );
    }
    return project;
  }

  /** Announces the project as it now is (in the change's transaction). */
  async announce(manager: EntityManager, type: RenewalEventType, id: string): Promise<void> {
    const r = (await this.projects.record(id, manager)) as ProjectRecord;
    const data: RenewalProjectEventData = {
      id: r.id,
      tenantId: r.tenantId,
      tenantPath: r.tenantPath,
      name: r.name,
      status: r.status,
      deviceIds: r.deviceIds,
      modelIds: r.modelIds,
      estimatedInvestmentCny: r.estimatedInvestmentCny,
      actualInvestments: r.actualInvestments,
      funding: r.funding,
      history: r.history,
      version: r.version,
    };
    await this.outbox.renewalChanged(manager, type, data);
  }

  /** The old devices: live devices of the owner's subtree (locked), none renewed by another project. */
  private async checkDevices(manager: EntityManager, owner: TenantRef, projectId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = new Map((await this.devices.findMany(manager, ids, true)).map((d) => [d.id, d]));
    const problems: FieldError[] = [];
    ids.forEach((id, i) => {
      const d = found.get(id);
      // A device outside the subtree reads as missing, so existence does not leak.
      if (!d || !canManage(owner, { id: d.tenantId, kind: d.tenantKind, path: d.tenantPath }))
        problems.push({ field: `deviceIds.${i}`, message: `is not a device of tenant ${owner.id} or its subtree` });
      else if (d.status === 'decommissioned') problems.push({ field: `deviceIds.${i}`, message: 'is decommissioned already' });
    });
    if (problems.length) throw inputInvalid('Some devices cannot be renewed by this project', problems);
    const claimed = await this.projects.claimedElsewhere(manager, projectId, ids);
    if (claimed.length > 0) {
      throw new RenewalProjectError(
        RenewalProjectErrorCode.DEVICE_IN_ANOTHER_PROJECT,
        `Devices ${claimed.map((c) => c.deviceId).join(', ')} are renewed by another project already`,
        { devices: claimed },
      );
    }
  }

  /** The replacing models: published models the owner may use (its own, its ancestors', the platform's). */
  private async checkModels(manager: EntityManager, owner: TenantRef, ids: string[]): Promise<void> {
    const problems: FieldError[] = [];
    for (const [i, id] of ids.entries()) {
      try {
        await this.models.usable(owner, id, undefined, manager);
      } catch (err) {
        if (!isDeviceRegistryError(err)) throw err;
        problems.push({ field: `modelIds.${i}`, message: `is not a published thing model tenant ${owner.id} may use` });
      }
    }
    if (problems.length) throw inputInvalid('Some models cannot replace devices in this project', problems);
  }
}

export function tenantOf(p: Pick<ProjectRow, 'tenantId' | 'tenantKind' | 'tenantPath'>): TenantRef {
  return { id: p.tenantId, kind: p.tenantKind, path: p.tenantPath };
}

function stateConflict(project: ProjectRow, what: string): RenewalProjectError {
  return new RenewalProjectError(RenewalProjectErrorCode.PROJECT_STATE_CONFLICT, `Renewal project ${project.id} ${what}`, {
    status: project.status,
  });
}

function inputInvalid(message: string, problems: FieldError[]): RenewalProjectError {
  return new RenewalProjectError(RenewalProjectErrorCode.PROJECT_INPUT_INVALID, message, { problems });
}

const sum = (xs: { amountCny: number }[]) => Math.round(xs.reduce((n, x) => n + x.amountCny * 100, 0)) / 100;

/** What the actor sees of a project: all of it when it manages the tenant, a summary as the member's park, nothing otherwise. */
export function viewFor(actor: TenantRef, r: ProjectRecord): ProjectView | undefined {
  const relation = relationTo(actor, tenantOf(r));
  if (relation === 'none') return undefined;
  const full = relation !== 'park';
  return {
    id: r.id,
    tenantId: r.tenantId,
    name: r.name,
    description: r.description,
    status: r.status,
    view: full ? 'full' : 'summary',
    ...(full ? { deviceIds: r.deviceIds, modelIds: r.modelIds } : {}),
    deviceCount: r.deviceIds.length,
    replacedCount: r.replacements.length,
    estimatedInvestmentCny: r.estimatedInvestmentCny,
    actualInvestmentCny: r.actualInvestments.length ? sum(r.actualInvestments) : null,
    actualInvestments: r.actualInvestments,
    funding: r.funding,
    fundingTotalCny: sum(r.funding),
    history: r.history,
    ...(full ? { replacements: r.replacements } : {}),
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
