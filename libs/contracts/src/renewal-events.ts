import type { EventEnvelope } from './envelope';

/** A renewal project's steps, in order (the plan's 重点项目库: planned, approved, procured, installed, verified). */
export const RENEWAL_PROJECT_STATUSES = ['planned', 'approved', 'procured', 'installed', 'verified'] as const;
export type RenewalProjectStatus = (typeof RENEWAL_PROJECT_STATUSES)[number];

/**
 * Where a project's money comes from: the central budget (中央预算内投资), the technical-renewal
 * re-loan (技术改造再贷款), tax incentives (税收优惠) and the enterprise's own funds.
 */
export const FUNDING_SOURCES = ['central-budget', 'technical-renewal-reloan', 'tax-incentive', 'own-funds'] as const;
export type FundingSource = (typeof FUNDING_SOURCES)[number];

/**
 * A renewal project as announced on iip.device-registry.renewal.v1 (keyed by project id,
 * dataVersion 1). Amounts are CNY with at most two decimals.
 */
export interface RenewalProjectEventData {
  id: string;
  tenantId: string;
  tenantPath: string[];
  name: string;
  status: RenewalProjectStatus;
  /** The old devices the project renews. */
  deviceIds: string[];
  /** The thing models their replacements are of. */
  modelIds: string[];
  estimatedInvestmentCny: number | null;
  /** What was spent, per calendar year (the equipment-investment indicator's input). */
  actualInvestments: { year: number; amountCny: number }[];
  funding: { source: FundingSource; amountCny: number }[];
  /** Each step reached: when (ISO 8601) and by which client. */
  history: { status: RenewalProjectStatus; at: string; by: string }[];
  version: number;
}

/** A new device was registered as the replacement of an old one; the old one is decommissioned with it. */
export interface RenewalReplacementEventData {
  projectId: string;
  tenantId: string;
  oldDeviceId: string;
  newDeviceId: string;
  /** Null when identifier had not announced it yet (the device events carry it once it is). */
  oldHandle: string | null;
  newHandle: string | null;
  at: string;
  by: string;
}

export const RenewalEventTypes = {
  RenewalProjectCreated: 'RenewalProjectCreated',
  RenewalProjectUpdated: 'RenewalProjectUpdated',
  RenewalProjectTransitioned: 'RenewalProjectTransitioned',
  RenewalReplacementRegistered: 'RenewalReplacementRegistered',
} as const;
export type RenewalEventType = (typeof RenewalEventTypes)[keyof typeof RenewalEventTypes];

export type RenewalProjectEvent = EventEnvelope<RenewalProjectEventData> & {
  type: 'RenewalProjectCreated' | 'RenewalProjectUpdated' | 'RenewalProjectTransitioned';
};
export type RenewalReplacementEvent = EventEnvelope<RenewalReplacementEventData> & { type: 'RenewalReplacementRegistered' };
