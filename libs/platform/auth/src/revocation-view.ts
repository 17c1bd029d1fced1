import { Principal } from './principal';

export interface RevocationViewOptions {
  /**
   * The longest lifetime of an access token, seconds: a revocation older than that can no
   * longer concern a token that is still valid, so it is forgotten.
   */
  windowSec: number;
  /**
   * A token issued up to this long after a revocation is refused too. `iat` has whole
   * seconds, and a token request that read the client as active just before the revocation
   * committed signs a moment after it; a revoked client or suspended tenant gets no new
   * tokens, so nothing legitimate falls in this margin.
   */
  graceSec?: number;
}

interface TenantEntry {
  /** Latest suspension heard of, epoch seconds (fractional). */
  suspendedAt: number;
  /** Latest reactivation heard of, epoch seconds; -Infinity if none. */
  reactivatedAt: number;
  suspended: boolean;
}

/**
 * What this instance knows of revoked clients and suspended tenants, fed by tenancy's events.
 * A token is refused when its client was revoked at or after its `iat`, when a tenant on its
 * path (itself or an ancestor) is suspended, or when such a tenant was suspended at or after
 * its `iat` — reactivation does not bring back tokens issued before the suspension.
 * `isRevoked` runs on every request: one Map lookup for the client and one per path element.
 */
export class RevocationView {
  private readonly clients = new Map<string, number>();
  private readonly tenants = new Map<string, TenantEntry>();
  private readonly windowSec: number;
  private readonly graceSec: number;

  constructor(options: RevocationViewOptions) {
    this.windowSec = options.windowSec;
    this.graceSec = options.graceSec ?? 1;
  }

  clientRevoked(clientId: string, atSec: number): void {
    const known = this.clients.get(clientId);
    if (known === undefined || atSec > known) this.clients.set(clientId, atSec);
  }

  tenantSuspended(tenantId: string, atSec: number): void {
    const entry = this.tenants.get(tenantId);
    if (!entry) {
      this.tenants.set(tenantId, { suspendedAt: atSec, reactivatedAt: -Infinity, suspended: true });
      return;
    }
    if (atSec > entry.suspendedAt) entry.suspendedAt = atSec;
    // Events of one tenant arrive in order; the times keep a late duplicate from undoing a later change.
    if (atSec >= entry.reactivatedAt) entry.suspended = true;
  }

  tenantReactivated(tenantId: string, atSec: number): void {
    const entry = this.tenants.get(tenantId);
    // Nothing to lift: a tenant never suspended within the window (most updates of active tenants).
    if (!entry) return;
    if (atSec > entry.reactivatedAt) entry.reactivatedAt = atSec;
    if (atSec >= entry.suspendedAt) entry.suspended = false;
  }

  isRevoked(principal: Pick<Principal, 'clientId' | 'tenant' | 'issuedAt'>): boolean {
    const issuedAt = (principal.issuedAt ?? 0) - this.graceSec;
    const revokedAt = this.clients.get(principal.clientId);
    if (revokedAt !== undefined && revokedAt >= issuedAt) return true;
    if (this.tenants.size === 0) return false;
    const path = principal.tenant.path;
    for (let i = 0; i < path.length; i++) {
      const entry = this.tenants.get(path[i]);
      if (entry !== undefined && (entry.suspended || entry.suspendedAt >= issuedAt)) return true;
    }
    return false;
  }

  /**
   * Forgets what no valid token can be concerned by any more: revocations older than the
   * window (tokens are issued to neither a revoked client nor a suspended tenant, so every
   * token still valid then was issued after them).
   */
  prune(nowSec: number): void {
    const before = nowSec - this.windowSec - this.graceSec;
    for (const [id, at] of this.clients) if (at < before) this.clients.delete(id);
    for (const [id, entry] of this.tenants) if (Math.max(entry.suspendedAt, entry.reactivatedAt) < before) this.tenants.delete(id);
  }

  /** How many clients and tenants the view holds (metrics, tests). */
  get size(): { clients: number; tenants: number } {
    return { clients: this.clients.size, tenants: this.tenants.size };
  }
}
