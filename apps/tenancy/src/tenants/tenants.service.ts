import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { TenancyEventTypes } from '@iip/contracts';
import { TenantRef, canManage, relationTo } from '@iip/platform-auth';
import { inTransaction, isUniqueViolation } from '@iip/platform-database';
import { DEFAULT_PAGE_SIZE, Page, pageOf, readCursor } from '@iip/platform-http';
import { DataGrantsRepository } from '../access/data-grants.repository';
import { TenancyOutbox } from '../messaging/tenancy-outbox';
import { TenancyError, TenancyErrorCode } from '../tenancy.errors';
import { CreateTenantDto, SuspendTenantDto, TenantView, UpdateTenantDto } from './dto/tenant.dto';
import { TenantEntity } from './tenant.entity';
import { TenantVisibility, mayAdminister, mayCreateUnder, mayHaveChild, visibilityOf } from './tenant-rules';
import { TENANCY_DATA_SOURCE, TenantsRepository } from './tenants.repository';

export const DEFAULT_QUOTAS = { maxDevices: 1000, maxTelemetryPointsPerSecond: 1000 };

export function tenantRef(t: Pick<TenantEntity, 'id' | 'kind' | 'path'>): TenantRef {
  return { id: t.id, kind: t.kind, path: t.path };
}

/** `tenant` as seen with `visibility`: the whole record, a park member's, only its profile, or nothing. */
export function tenantView(visibility: TenantVisibility, tenant: TenantEntity): TenantView | undefined {
  if (visibility === 'none') return undefined;
  const profile = {
    id: tenant.id,
    kind: tenant.kind,
    parentId: tenant.parentId,
    name: tenant.name,
    creditCode: tenant.creditCode,
    contact: tenant.contact,
    status: tenant.status,
  };
  if (visibility === 'profile') return { view: 'profile', ...profile };
  const quotas = { maxDevices: tenant.maxDevices, maxTelemetryPointsPerSecond: tenant.maxTelemetryPointsPerSecond };
  if (visibility === 'member') return { view: 'member', ...profile, quotas, version: tenant.version };
  return {
    view: 'full',
    ...profile,
    path: tenant.path,
    quotas,
    suspendedReason: tenant.suspendedReason,
    version: tenant.version,
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
  };
}

/** What `actor` sees of a tenant by their places in the tree alone (no grant consulted). */
export function viewOf(actor: TenantRef, tenant: TenantEntity): TenantView | undefined {
  return tenantView(visibilityOf(actor, tenantRef(tenant), false), tenant);
}

/** Tenants: onboarding, reading within visibility, updating, suspending. */
@Injectable()
export class TenantsService {
  constructor(
    @Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly tenants: TenantsRepository,
    private readonly grants: DataGrantsRepository,
    private readonly outbox: TenancyOutbox,
  ) {}

  /** First start: the platform operator's own tenant, the root of the tree. */
  async ensurePlatformTenant(name: string, creditCode: string): Promise<TenantEntity> {
    return inTransaction(this.dataSource, async (manager) => {
      // Serialises first starts of several instances.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['iip-tenancy:platform-tenant']);
      const existing = await this.tenants.findPlatform(manager);
      if (existing) return existing;
      const id = randomUUID();
      const platform = Object.assign(new TenantEntity(), {
        id,
        kind: 'platform' as const,
        parentId: null,
        path: [id],
        name,
        creditCode,
        contact: {},
        maxDevices: 0,
        maxTelemetryPointsPerSecond: 0,
        status: 'active' as const,
        suspendedReason: null,
        version: 1,
      });
      const saved = await this.tenants.insert(manager, platform);
      await this.outbox.tenantChanged(manager, TenancyEventTypes.TenantOnboarded, saved);
      return saved;
    });
  }

  /** The actor's view of a tenant it was allowed to load or change. */
  view(actor: TenantRef, tenant: TenantEntity): TenantView {
    const v = viewOf(actor, tenant);
    if (!v) throw TenancyError.tenantNotFound(tenant.id);
    return v;
  }

  /** Loads a tenant the actor may see, or answers "not found" so existence does not leak. */
  async getVisible(actor: TenantRef, id: string, manager?: EntityManager): Promise<TenantEntity> {
    const tenant = await this.tenants.findById(id, manager);
    if (!tenant || relationTo(actor, tenantRef(tenant)) === 'none') throw TenancyError.tenantNotFound(id);
    return tenant;
  }

  /** How much of `target` the actor sees (visibilityOf); a grant is looked up only where the tree shows nothing. */
  async visibility(actor: TenantRef, target: TenantEntity): Promise<TenantVisibility> {
    const byTree = visibilityOf(actor, tenantRef(target), false);
    if (byTree !== 'none') return byTree;
    return visibilityOf(actor, tenantRef(target), await this.grants.exists(target.id, actor.id));
  }

  /** Reads a tenant as the actor sees it: the same rule CheckAccess answers by. */
  async get(actor: TenantRef, id: string): Promise<TenantView> {
    const tenant = await this.tenants.findById(id);
    if (!tenant) {
      // The lookup an unrelated tenant costs, so timing does not tell "not there" from "not yours".
      await this.grants.exists(id, actor.id);
      throw TenancyError.tenantNotFound(id);
    }
    const view = tenantView(await this.visibility(actor, tenant), tenant);
    if (!view) throw TenancyError.tenantNotFound(id);
    return view;
  }

  async onboard(actor: TenantRef, input: CreateTenantDto): Promise<TenantEntity> {
    return inTransaction(this.dataSource, (manager) => this.onboardInTransaction(manager, actor, input.parentId ?? actor.id, input));
  }

  /** Creates a tenant and its TenantOnboarded event in the caller's transaction. */
  async onboardInTransaction(
    manager: EntityManager,
    actor: TenantRef,
    parentId: string,
    input: Omit<CreateTenantDto, 'parentId'>,
  ): Promise<TenantEntity> {
    const parent = await this.tenants.findById(parentId, manager);
    if (!parent || relationTo(actor, tenantRef(parent)) === 'none') throw TenancyError.tenantNotFound(parentId);
    if (!mayCreateUnder(actor, tenantRef(parent))) {
      throw new TenancyError(TenancyErrorCode.NOT_PERMITTED, `Tenant ${actor.id} may not onboard tenants under ${parent.id}`);
    }
    if (!mayHaveChild(parent.kind, input.kind)) {
      throw new TenancyError(TenancyErrorCode.KIND_NOT_ALLOWED_UNDER_PARENT, `A ${input.kind} cannot be created under a ${parent.kind}`, {
        parentKind: parent.kind,
        kind: input.kind,
      });
    }
    if (parent.status !== 'active') {
      throw new TenancyError(TenancyErrorCode.TENANT_SUSPENDED, `Parent tenant ${parent.id} is suspended`);
    }
    const id = randomUUID();
    const tenant = Object.assign(new TenantEntity(), {
      id,
      kind: input.kind,
      parentId: parent.id,
      path: [...parent.path, id],
      name: input.name.trim(),
      creditCode: input.creditCode,
      contact: { ...(input.contact ?? {}) },
      maxDevices: input.quotas?.maxDevices ?? DEFAULT_QUOTAS.maxDevices,
      maxTelemetryPointsPerSecond: input.quotas?.maxTelemetryPointsPerSecond ?? DEFAULT_QUOTAS.maxTelemetryPointsPerSecond,
      status: 'active',
      suspendedReason: null,
      version: 1,
    });
    let saved: TenantEntity;
    try {
      // A savepoint keeps the surrounding transaction usable after a duplicate (bulk onboarding).
      await manager.query('SAVEPOINT onboard_tenant');
      saved = await this.tenants.insert(manager, tenant);
      await manager.query('RELEASE SAVEPOINT onboard_tenant');
    } catch (err) {
      await manager.query('ROLLBACK TO SAVEPOINT onboard_tenant');
      if (isUniqueViolation(err, 'tenants_credit_code_unique')) throw TenancyError.creditCodeUnavailable();
      throw err;
    }
    await this.outbox.tenantChanged(manager, TenancyEventTypes.TenantOnboarded, saved);
    return saved;
  }

  async listDescendants(actor: TenantRef, id: string, limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<Page<TenantView>> {
    const root = await this.getVisible(actor, id);
    if (!canManage(actor, tenantRef(root))) {
      // A park member's subtree is its own business; its park sees only the member itself.
      throw TenancyError.tenantNotFound(id);
    }
    let after: { createdAt: string; id: string } | undefined;
    if (cursor) {
      const [createdAt, tenantId] = readCursor(cursor, ['timestamp', 'uuid']) as string[];
      after = { createdAt, id: tenantId };
    }
    const page = pageOf(await this.tenants.listDescendants(root.id, limit + 1, after), limit, (t) => [t.createdAt.toISOString(), t.id]);
    return {
      items: page.rows.map((t) => viewOf(actor, t)).filter((v): v is TenantView => v !== undefined),
      nextCursor: page.nextCursor,
    };
  }

  async update(actor: TenantRef, id: string, patch: UpdateTenantDto): Promise<TenantEntity> {
    return inTransaction(this.dataSource, async (manager) => {
      const tenant = await this.lockVisible(manager, actor, id);
      const administers = mayAdminister(actor, tenantRef(tenant));
      if (!administers && !(actor.id === tenant.id)) {
        throw new TenancyError(TenancyErrorCode.NOT_PERMITTED, `Tenant ${actor.id} may not change tenant ${id}`);
      }
      if (patch.quotas && !administers) {
        throw new TenancyError(TenancyErrorCode.NOT_PERMITTED, 'Quotas are set by the tenant above, not by the tenant itself');
      }
      if (tenant.version !== patch.version) {
        throw new TenancyError(TenancyErrorCode.VERSION_CONFLICT, `Tenant ${id} is at version ${tenant.version}, not ${patch.version}`, {
          currentVersion: tenant.version,
        });
      }
      if (patch.name !== undefined) tenant.name = patch.name.trim();
      if (patch.contact !== undefined) tenant.contact = { ...patch.contact };
      if (patch.quotas !== undefined) {
        tenant.maxDevices = patch.quotas.maxDevices;
        tenant.maxTelemetryPointsPerSecond = patch.quotas.maxTelemetryPointsPerSecond;
      }
      tenant.version += 1;
      const saved = await this.tenants.save(manager, tenant);
      await this.outbox.tenantChanged(manager, TenancyEventTypes.TenantUpdated, saved);
      return saved;
    });
  }

  suspend(actor: TenantRef, id: string, input: SuspendTenantDto): Promise<TenantEntity> {
    return this.setStatus(actor, id, 'suspended', input.reason);
  }

  reactivate(actor: TenantRef, id: string): Promise<TenantEntity> {
    return this.setStatus(actor, id, 'active');
  }

  /** Suspends or reactivates a tenant below the actor; a tenant already in that state is returned unchanged. */
  private setStatus(actor: TenantRef, id: string, status: 'active' | 'suspended', reason?: string): Promise<TenantEntity> {
    return inTransaction(this.dataSource, async (manager) => {
      const tenant = await this.lockVisible(manager, actor, id);
      if (!mayAdminister(actor, tenantRef(tenant))) {
        const verb = status === 'suspended' ? 'suspend' : 'reactivate';
        throw new TenancyError(TenancyErrorCode.NOT_PERMITTED, `Tenant ${actor.id} may not ${verb} tenant ${id}`);
      }
      if (tenant.status === status) return tenant;
      tenant.status = status;
      tenant.suspendedReason = reason ?? null;
      tenant.version += 1;
      const saved = await this.tenants.save(manager, tenant);
      if (status === 'suspended') await this.outbox.tenantChanged(manager, TenancyEventTypes.TenantSuspended, saved, { reason });
      else await this.outbox.tenantChanged(manager, TenancyEventTypes.TenantUpdated, saved);
      return saved;
    });
  }

  private async lockVisible(manager: EntityManager, actor: TenantRef, id: string): Promise<TenantEntity> {
    const tenant = await this.tenants.findByIdForUpdate(manager, id);
    if (!tenant || relationTo(actor, tenantRef(tenant)) === 'none') throw TenancyError.tenantNotFound(id);
    return tenant;
  }
}
