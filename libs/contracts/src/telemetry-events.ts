import type { EventEnvelope } from './envelope';

/** One property's value at one instant; `ts` in milliseconds since the epoch (UTC). */
export interface TelemetryPoint {
  ts: number;
  property: string;
  value: number | boolean | string | Record<string, unknown> | unknown[];
}

/**
 * Points of one device accepted together (iip.telemetry.points.v1, keyed by device id;
 * dataVersion 1): each has been checked against the device's thing model before it was sent.
 */
export interface TelemetryPointsData {
  deviceId: string;
  tenantId: string;
  points: TelemetryPoint[];
}

export const TelemetryEventTypes = {
  TelemetryPointsAccepted: 'TelemetryPointsAccepted',
  AlarmRaised: 'AlarmRaised',
  AlarmAcknowledged: 'AlarmAcknowledged',
  AlarmCleared: 'AlarmCleared',
  AlarmShelved: 'AlarmShelved',
} as const;

export type AlarmState = 'active-unacknowledged' | 'active-acknowledged' | 'cleared-unacknowledged' | 'cleared';

/** An alarm's state after a change (iip.telemetry.alarm.v1, keyed by alarm id; dataVersion 1). */
export interface AlarmEventData {
  id: string;
  tenantId: string;
  ruleId: string;
  deviceId: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  state: AlarmState;
  message: string;
  value: number | null;
  raisedAt: string;
  acknowledgedAt: string | null;
  clearedAt: string | null;
  shelvedUntil: string | null;
  version: number;
}

export type TelemetryPointsEvent = EventEnvelope<TelemetryPointsData>;
