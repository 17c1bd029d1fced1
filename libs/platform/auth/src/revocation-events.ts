import { EventEnvelope, TenancyEventTypes, Topics } from '@iip/contracts';
import { RevocationView } from './revocation-view';

/** The topics (without deployment prefix) whose events feed a RevocationView. */
export const REVOCATION_TOPICS = [Topics.tenancyTenant, Topics.tenancyClient] as const;

/**
 * Applies one of tenancy's events to the view; events that revoke nothing are ignored.
 * Reactivation comes as TenantUpdated with status "active", so any tenant event is read by
 * the status it carries. The time is the event's own (tenancy's clock, like `iat`).
 */
export function applyRevocationEvent(view: RevocationView, event: EventEnvelope): void {
  const atSec = Date.parse(event.time) / 1000;
  if (!Number.isFinite(atSec)) return;
  const data = event.data as Record<string, unknown> | null;
  if (typeof data !== 'object' || data === null) return;
  switch (event.type) {
    case TenancyEventTypes.ClientRevoked:
      if (typeof data.clientId === 'string') view.clientRevoked(data.clientId, atSec);
      return;
    case TenancyEventTypes.TenantSuspended:
    case TenancyEventTypes.TenantUpdated:
    case TenancyEventTypes.TenantOnboarded:
      if (typeof data.id !== 'string') return;
      if (event.type === TenancyEventTypes.TenantSuspended || data.status === 'suspended') view.tenantSuspended(data.id, atSec);
      else if (data.status === 'active') view.tenantReactivated(data.id, atSec);
      return;
    default:
      return;
  }
}
