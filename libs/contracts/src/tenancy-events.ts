import type { EventEnvelope } from './envelope';

/** Tenant state carried by tenancy events (dataVersion 1). */
export interface TenantEventData {
  id: string;
  kind: 'platform' | 'group' | 'subsidiary' | 'park' | 'park-member';
  parentId: string | null;
  path: string[];
  name: string;
  creditCode: string;
  status: 'active' | 'suspended';
  quotas: { maxDevices: number; maxTelemetryPointsPerSecond: number };
  version: number;
}

export const TenancyEventTypes = {
  TenantOnboarded: 'TenantOnboarded',
  TenantUpdated: 'TenantUpdated',
  TenantSuspended: 'TenantSuspended',
  /** On iip.tenancy.client.v1: the client's tokens stop working at every service. */
  ClientRevoked: 'ClientRevoked',
} as const;

export type TenancyEventType = (typeof TenancyEventTypes)[keyof typeof TenancyEventTypes];

export type TenantOnboarded = EventEnvelope<TenantEventData> & { type: 'TenantOnboarded' };
export type TenantUpdated = EventEnvelope<TenantEventData> & { type: 'TenantUpdated' };
export type TenantSuspended = EventEnvelope<TenantEventData & { reason: string }> & { type: 'TenantSuspended' };
/** OAuth2 client state carried by ClientRevoked (dataVersion 1). */
export interface ClientEventData {
  clientId: string;
  tenantId: string;
  /** When the revocation took effect (ISO 8601); tokens issued up to then are refused. */
  revokedAt: string;
}

export type ClientRevoked = EventEnvelope<ClientEventData> & { type: 'ClientRevoked' };
export type TenancyEvent = TenantOnboarded | TenantUpdated | TenantSuspended | ClientRevoked;
