import type { SiteJson } from '../native/native-values';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource, EntityManager } from 'typeorm';
import { TenantEventData } from '@iip/contracts';
import { Principal, SecretBox, TenantRef, canManage } from '@iip/platform-auth';
import { inTransaction, isUniqueViolation } from '@iip/platform-database';
import { enterpriseAllocationProblem, isHandleSyntaxError, parentPrefixes, parsePrefix } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { IdentifierOutbox } from '../messaging/identifier-outbox';
import { PrefixEntity, ownerRef } from './prefix.entity';
import { IDENTIFIER_DATA_SOURCE, PrefixesRepository } from './prefixes.repository';

export const NODE_SETTINGS = Symbol('NODE_SETTINGS');

export interface NodeSettings {
  nodePrefix: string;
  prefixStart: number;
  defaultTtl: number;
  role: 'secondary' | 'top-level';
  /** The node's native Handle site (HS_SITE of its prefix record), once its native interfaces listen. */
  site?: SiteJson;
  /** Seals what must be used again in clear (secret keys, for native challenge–response): IDENTIFIER_KEY_ENCRYPTION_SECRET. */
  secretBox: SecretBox;
  /** Failed handle-identity authentications per minute allowed per identity+source and per source. */
  identityFailures: { perSubject: number; perSource: number };
}

/**
 * Prefixes this node hosts: its own, and enterprise prefixes allocated under it to tenants —
 * automatically when a tenant is onboarded, by hand by the platform operator.
 */
@Injectable()
export class PrefixesService {
  private readonly hostedCache = new LRUCache<string, { row?: PrefixEntity }>({ max: 10_000, ttl: 5_000 });

  constructor(
    @Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly prefixes: PrefixesRepository,
    private readonly outbox: IdentifierOutbox,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  async ensureNodePrefix(): Promise<void> {
    await inTransaction(this.dataSource, async (manager) => {
      if (await this.prefixes.find(this.node.nodePrefix, manager)) return;
      await this.prefixes.insert(manager, {
        prefix: this.node.nodePrefix,
        kind: 'node',
        allocation: 'configured',
        tenantId: null,
        tenantKind: null,
        tenantPath: null,
      });
    });
  }

  /** Applies a tenancy event in the consumer's transaction: onboarded tenants get their prefix once. */
  async applyTenantEvent(manager: EntityManager, type: string, tenant: TenantEventData): Promise<void> {
    // Every tenant event carries the tenant's status: remember suspensions for handle identities.
    if (tenant.status === 'suspended') {
      await manager.query('INSERT INTO suspended_tenants (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING', [tenant.id]);
    } else {
      await manager.query('DELETE FROM suspended_tenants WHERE tenant_id = $1', [tenant.id]);
    }
    if (type !== 'TenantOnboarded') {
      await this.prefixes.updateOwner(manager, tenant.id, tenant.kind, tenant.path);
      return;
    }
    if (tenant.kind === 'platform') {
      // The operator owns the node prefix itself.
      await manager.query(
        `UPDATE prefixes SET tenant_id = $1, tenant_kind = $2, tenant_path = $3 WHERE prefix = $4 AND tenant_id IS NULL`,
        [tenant.id, tenant.kind, tenant.path, this.node.nodePrefix],
      );
      return;
    }
    if (await this.prefixes.findAutoForTenant(tenant.id, manager)) return;
    const n = await this.prefixes.nextEnterpriseNumber(manager, this.node.prefixStart);
    const prefix = `${this.node.nodePrefix}.${n}`;
    await this.prefixes.insert(manager, {
      prefix,
      kind: 'enterprise',
      allocation: 'auto',
      tenantId: tenant.id,
      tenantKind: tenant.kind,
      tenantPath: tenant.path,
    });
    await this.outbox.prefixAllocated(manager, { prefix, tenantId: tenant.id, allocation: 'auto' });
  }

  /** The enterprise prefix allocated to a tenant on onboarding, if this node has allocated it yet. */
  async enterprisePrefixOf(tenantId: string, manager?: EntityManager): Promise<PrefixEntity | undefined> {
    return (await this.prefixes.findAutoForTenant(tenantId, manager)) ?? undefined;
  }

  /** The platform operator allocates a further prefix to a tenant this node knows. */
  async allocateManually(actor: Principal, requested: string, tenantId: string): Promise<PrefixEntity> {
    if (actor.tenant.kind !== 'platform') {
      throw new IdentifierError(IdentifierErrorCode.PREFIX_NOT_OWNED, 'Only the platform operator allocates prefixes by hand');
    }
    const prefix = parsePrefix(requested);
    if (isHandleSyntaxError(prefix)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, prefix.message);
    // Resolution and delegation take any prefix of the world; what this node mints is its prefix plus digits (88.x.y).
    const problem = enterpriseAllocationProblem(prefix, this.node.nodePrefix);
    if (problem) {
      throw new IdentifierError(
        problem.reason === 'NOT_UNDER_NODE_PREFIX' ? IdentifierErrorCode.SERVER_NOT_RESPONSIBLE : IdentifierErrorCode.INVALID_VALUE,
        problem.message,
      );
    }
    return inTransaction(this.dataSource, async (manager) => {
      const known = await this.prefixes.findAutoForTenant(tenantId, manager);
      if (!known) throw new IdentifierError(IdentifierErrorCode.TENANT_UNKNOWN, `Tenant ${tenantId} is not known to this node yet`);
      try {
        await manager.query('SAVEPOINT allocate_prefix');
        const row = await this.prefixes.insert(manager, {
          prefix,
          kind: 'enterprise',
          allocation: 'manual',
          tenantId,
          tenantKind: known.tenantKind,
          tenantPath: known.tenantPath,
        });
        await manager.query('RELEASE SAVEPOINT allocate_prefix');
        await this.outbox.prefixAllocated(manager, { prefix, tenantId, allocation: 'manual' });
        return row;
      } catch (err) {
        await manager.query('ROLLBACK TO SAVEPOINT allocate_prefix');
        if (isUniqueViolation(err))
          throw new IdentifierError(IdentifierErrorCode.PREFIX_ALREADY_EXISTS, `Prefix ${prefix} is already allocated`);
        throw err;
      }
    });
  }

  /**
   * The hosted prefix a handle prefix falls under, if this node answers for it. Every resolution
   * asks, so answers are remembered for a few seconds (prefixes are allocated, not moved).
   */
  /** What {@link hostedPrefixFor} last answered for `prefix` if still fresh, without I/O; undefined when unknown. */
  peekHosted(prefix: string): { row?: PrefixEntity } | undefined {
    return this.hostedCache.get(prefix);
  }

  async hostedPrefixFor(prefix: string): Promise<PrefixEntity | undefined> {
    const known = this.hostedCache.get(prefix);
    if (known) return known.row;
    const row = await this.prefixes.findFirstHosted(parentPrefixes(prefix));
    this.hostedCache.set(prefix, { row });
    return row;
  }

  /** The prefix row itself, read fresh: ownership decisions never use the routing cache above. */
  async exact(prefix: string): Promise<PrefixEntity | undefined> {
    return (await this.prefixes.find(prefix)) ?? undefined;
  }

  /** The prefix a write goes under, checked against the caller: its own, its subtree's (a group's subsidiaries), or the operator. */
  async writablePrefix(actor: Principal, prefix: string): Promise<PrefixEntity> {
    const row = await this.prefixes.find(prefix);
    if (!row) {
      const hosted = await this.hostedPrefixFor(prefix);
      throw hosted
        ? new IdentifierError(IdentifierErrorCode.PREFIX_NOT_FOUND, `Prefix ${prefix} has not been allocated`)
        : new IdentifierError(IdentifierErrorCode.SERVER_NOT_RESPONSIBLE, `This node does not host prefix ${prefix}`);
    }
    const owner = ownerRef(row);
    if (!owner || !canManage(actor.tenant, owner)) {
      throw new IdentifierError(IdentifierErrorCode.PREFIX_NOT_OWNED, `Prefix ${prefix} belongs to another tenant`);
    }
    return row;
  }

  /** Whether the caller may manage the allocated prefix `prefix` (as for a write under it), read fresh. */
  async manages(actor: Principal, prefix: string): Promise<boolean> {
    const row = await this.prefixes.find(prefix);
    const owner = row ? ownerRef(row) : undefined;
    return owner !== undefined && canManage(actor.tenant, owner);
  }

  /**
   * The owner of the most specific hosted prefix `prefix` falls under, read fresh (not from the
   * routing cache above: an owner moved or suspended must count at once); undefined when unowned or not hosted.
   */
  async hostedOwner(prefix: string): Promise<TenantRef | undefined> {
    const row = await this.prefixes.findFirstHosted(parentPrefixes(prefix));
    return row ? ownerRef(row) : undefined;
  }

  listForActor(actor: Principal): Promise<PrefixEntity[]> {
    return this.prefixes.listForTenant(actor.tenant.id);
  }
}
