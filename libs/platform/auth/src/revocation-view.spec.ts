import type { EventEnvelope } from '@iip/contracts';
import { Principal, TenantRef } from './principal';
import { applyRevocationEvent } from './revocation-events';
import { RevocationView } from './revocation-view';

const T = 1_800_000_000; // a fixed "now", epoch seconds

const group: TenantRef = { id: 'g', kind: 'group', path: ['p', 'g'] };
const sub: TenantRef = { id: 's', kind: 'subsidiary', path: ['p', 'g', 's'] };
const sibling: TenantRef = { id: 'b', kind: 'subsidiary', path: ['p', 'g', 'b'] };
const otherGroup: TenantRef = { id: 'g2', kind: 'group', path: ['p', 'g2'] };

const token = (
  tenant: TenantRef,
  issuedAt: number,
  clientId = `client-of-${tenant.id}`,
): Pick<Principal, 'clientId' | 'tenant' | 'issuedAt'> => ({
  clientId,
  tenant,
  issuedAt,
});

describe('RevocationView', () => {
  let view: RevocationView;
  beforeEach(() => {
    view = new RevocationView({ windowSec: 900, graceSec: 1 });
  });

  it('refuses nothing it has not heard of', () => {
    expect(view.isRevoked(token(sub, T))).toBe(false);
  });

  it("refuses a revoked client's tokens issued before the revocation, and no one else's", () => {
    view.clientRevoked('client-of-s', T);
    expect(view.isRevoked(token(sub, T - 600))).toBe(true);
    expect(view.isRevoked(token(sub, T))).toBe(true);
    expect(view.isRevoked(token(sub, T - 600, 'another-client-of-s'))).toBe(false);
    expect(view.isRevoked(token(group, T - 600))).toBe(false);
  });

  it('refuses a token signed within the grace second after the revocation, not later ones', () => {
    view.clientRevoked('client-of-s', T + 0.4);
    expect(view.isRevoked(token(sub, T + 1))).toBe(true);
    expect(view.isRevoked(token(sub, T + 2))).toBe(false);
  });

  it("refuses a suspended tenant's tokens and its subtree's, not its siblings' or ancestors'", () => {
    view.tenantSuspended('g', T);
    expect(view.isRevoked(token(group, T - 100))).toBe(true);
    expect(view.isRevoked(token(sub, T - 100))).toBe(true);
    expect(view.isRevoked(token(sibling, T - 100))).toBe(true);
    expect(view.isRevoked(token({ id: 'p', kind: 'platform', path: ['p'] }, T - 100))).toBe(false);
    expect(view.isRevoked(token(otherGroup, T - 100))).toBe(false);

    view.tenantSuspended('s', T);
    view.tenantReactivated('g', T + 5);
    expect(view.isRevoked(token(sibling, T + 10))).toBe(false);
    expect(view.isRevoked(token(sub, T + 10))).toBe(true);
  });

  it('refuses every token of a tenant while it is suspended, even one stamped later (clock skew)', () => {
    view.tenantSuspended('s', T);
    expect(view.isRevoked(token(sub, T + 30))).toBe(true);
  });

  it('does not bring back tokens issued before the suspension when the tenant is reactivated', () => {
    view.tenantSuspended('g', T);
    view.tenantReactivated('g', T + 60);
    expect(view.isRevoked(token(group, T - 10))).toBe(true);
    expect(view.isRevoked(token(sub, T - 10))).toBe(true);
    expect(view.isRevoked(token(group, T + 61))).toBe(false);
    expect(view.isRevoked(token(sub, T + 61))).toBe(false);
  });

  it('is not fooled by events heard out of order', () => {
    view.tenantSuspended('g', T + 10);
    view.tenantReactivated('g', T); // older than the suspension: does not lift it
    expect(view.isRevoked(token(group, T + 100))).toBe(true);
    view.clientRevoked('c', T + 10);
    view.clientRevoked('c', T); // a replayed older revocation does not narrow it
    expect(view.isRevoked(token(group, T + 5, 'c'))).toBe(true);
  });

  it('ignores reactivations of tenants it never saw suspended', () => {
    view.tenantReactivated('g', T);
    expect(view.size).toEqual({ clients: 0, tenants: 0 });
  });

  it('forgets what is older than the longest token lifetime, and keeps the rest', () => {
    view.clientRevoked('old', T - 2000);
    view.clientRevoked('recent', T - 100);
    view.tenantSuspended('old-tenant', T - 2000);
    view.tenantSuspended('g', T - 500);
    view.tenantSuspended('s', T - 2000);
    view.tenantReactivated('s', T - 100);
    view.prune(T);
    expect(view.size).toEqual({ clients: 1, tenants: 2 });
    expect(view.isRevoked(token(group, T - 600))).toBe(true);
    expect(view.isRevoked(token(otherGroup, T - 200, 'recent'))).toBe(true);
    expect(view.isRevoked(token(otherGroup, T - 200, 'old'))).toBe(false);
  });
});

describe('applyRevocationEvent', () => {
  const at = new Date(T * 1000).toISOString();
  const createEnvelope = (e: Omit<EventEnvelope, 'id' | 'dataVersion' | 'time'> & { time?: string }): EventEnvelope => ({
    id: `${e.type}-${e.subject}`,
    dataVersion: '1',
    time: e.time ?? at,
    ...e,
  });
  const tenantEvent = (type: string, id: string, status: 'active' | 'suspended') =>
    createEnvelope({ type, source: 'iip.tenancy', tenantId: id, subject: id, time: at, data: { id, status, path: ['p', id] } });

  it('reads ClientRevoked, TenantSuspended and a TenantUpdated that reactivates', () => {
    const view = new RevocationView({ windowSec: 900 });
    applyRevocationEvent(
      view,
      createEnvelope({
        type: 'ClientRevoked',
        source: 'iip.tenancy',
        tenantId: 'g',
        subject: 'c1',
        time: at,
        data: { clientId: 'c1', tenantId: 'g', revokedAt: at },
      }),
    );
    applyRevocationEvent(view, tenantEvent('TenantSuspended', 'g', 'suspended'));
    expect(view.isRevoked(token(otherGroup, T - 10, 'c1'))).toBe(true);
    expect(view.isRevoked(token(sub, T + 100))).toBe(true);
    applyRevocationEvent(view, { ...tenantEvent('TenantUpdated', 'g', 'active'), time: new Date((T + 50) * 1000).toISOString() });
    expect(view.isRevoked(token(sub, T + 100))).toBe(false);
    expect(view.isRevoked(token(sub, T - 10))).toBe(true);
  });

  it('ignores events that revoke nothing, and data it cannot read', () => {
    const view = new RevocationView({ windowSec: 900 });
    applyRevocationEvent(view, tenantEvent('TenantOnboarded', 'g', 'active'));
    applyRevocationEvent(view, tenantEvent('TenantUpdated', 'g', 'active'));
    applyRevocationEvent(
      view,
      createEnvelope({ type: 'PrefixAllocated', source: 'iip.identifier', tenantId: 'g', subject: 'g', data: { id: 'g' } }),
    );
    applyRevocationEvent(
      view,
      createEnvelope({ type: 'ClientRevoked', source: 'iip.tenancy', tenantId: 'g', subject: 'c', data: { clientId: 7 } }),
    );
    applyRevocationEvent(view, createEnvelope({ type: 'TenantSuspended', source: 'iip.tenancy', tenantId: 'g', subject: 'g', data: null }));
    expect(view.size).toEqual({ clients: 0, tenants: 0 });
  });
});
