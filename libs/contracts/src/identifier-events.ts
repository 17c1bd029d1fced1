import type { EventEnvelope } from './envelope';

/** An enterprise prefix now belongs to a tenant (dataVersion 1). */
export interface PrefixAllocatedData {
  prefix: string;
  tenantId: string;
  allocation: 'auto' | 'manual';
}

/** An identifier was registered, changed or deleted (dataVersion 1); `key` is its case-folded lookup key. */
export interface IdentifierChangedData {
  handle: string;
  key: string;
  prefix: string;
  tenantId: string;
  version: number;
  change: 'registered' | 'updated' | 'deleted';
  /** Set when another service's event caused the write (a device's identifier: its DeviceRegistered). */
  origin?: { source: string; id: string };
}

export const IdentifierEventTypes = {
  PrefixAllocated: 'PrefixAllocated',
  IdentifierRegistered: 'IdentifierRegistered',
  IdentifierUpdated: 'IdentifierUpdated',
  IdentifierDeleted: 'IdentifierDeleted',
} as const;

export type PrefixAllocated = EventEnvelope<PrefixAllocatedData> & { type: 'PrefixAllocated' };
export type IdentifierChanged = EventEnvelope<IdentifierChangedData> & {
  type: 'IdentifierRegistered' | 'IdentifierUpdated' | 'IdentifierDeleted';
};
