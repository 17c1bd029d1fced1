import type { EventEnvelope } from './envelope';

export const DEVICE_LIFECYCLE_STATES = ['provisioned', 'active', 'suspended', 'decommissioned'] as const;
export type DeviceLifecycleState = (typeof DEVICE_LIFECYCLE_STATES)[number];

/**
 * A device as announced on iip.device-registry.device.v1 (dataVersion 1). `handleSuffix` is
 * what identifier registers under the tenant's enterprise prefix; `handle` is set once
 * identifier has announced it.
 */
export interface DeviceEventData {
  id: string;
  tenantId: string;
  tenantKind: 'platform' | 'group' | 'subsidiary' | 'park' | 'park-member';
  tenantPath: string[];
  name: string;
  manufacturer: string;
  serial: string;
  model: { id: string; name: string; version: number };
  status: DeviceLifecycleState;
  handleSuffix: string;
  handle: string | null;
  /** ISO date (YYYY-MM-DD) the equipment was commissioned, when known. */
  commissionedOn: string | null;
  category: string | null;
  /** The gateway the device reaches the platform through (it may publish for the device); absent in events before it was added. */
  gatewayId?: string | null;
  /** Where a person reads the device in the registry (the identifier's URL value). */
  registryUrl: string;
  /** The handle of the device this one replaced in a renewal project (the identifier's IIP_REPLACES value); absent before renewal existed. */
  replacesHandle?: string | null;
  /** The handle of the device that replaced this one (IIP_REPLACED_BY). */
  replacedByHandle?: string | null;
  version: number;
}

export const DeviceRegistryEventTypes = {
  DeviceRegistered: 'DeviceRegistered',
  DeviceUpdated: 'DeviceUpdated',
  DeviceStatusChanged: 'DeviceStatusChanged',
} as const;

export type DeviceRegistryEventType = (typeof DeviceRegistryEventTypes)[keyof typeof DeviceRegistryEventTypes];
export type DeviceEvent = EventEnvelope<DeviceEventData> & { type: DeviceRegistryEventType };

/** A device credential was issued or revoked (iip.device-registry.credential.v1, keyed by device id; dataVersion 1). */
export interface CredentialEventData {
  id: string;
  deviceId: string;
  tenantId: string;
  kind: 'secret' | 'x509';
  /** x509: the certificate's SHA-256 fingerprint (lower-case hex). */
  fingerprint: string | null;
}

export const CredentialEventTypes = {
  CredentialIssued: 'CredentialIssued',
  CredentialRevoked: 'CredentialRevoked',
} as const;
export type CredentialEventType = (typeof CredentialEventTypes)[keyof typeof CredentialEventTypes];

/** A twin document changed (iip.device-registry.twin.v1, keyed by device id; dataVersion 1). */
export interface TwinEventData {
  deviceId: string;
  tenantId: string;
  side: 'desired' | 'reported';
  /** The document's new version. */
  version: number;
  /** The merge patch applied. */
  patch: Record<string, unknown>;
  /** What desired asks that reported does not say yet, after the change. */
  delta: Record<string, unknown>;
}

export const TwinEventTypes = {
  TwinDesiredChanged: 'TwinDesiredChanged',
  TwinReportedChanged: 'TwinReportedChanged',
} as const;
