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
  CommandRequested: 'CommandRequested',
  CommandDelivered: 'CommandDelivered',
  CommandSucceeded: 'CommandSucceeded',
  CommandFailed: 'CommandFailed',
  CommandTimedOut: 'CommandTimedOut',
  ThingEventReceived: 'ThingEventReceived',
  DeviceSeen: 'DeviceSeen',
  MaintenancePredicted: 'MaintenancePredicted',
  WorkOrderOpened: 'WorkOrderOpened',
  WorkOrderUpdated: 'WorkOrderUpdated',
  WorkOrderClosed: 'WorkOrderClosed',
} as const;

/** A device sent data during `hour` (iip.telemetry.activity.v1, keyed by device id; at most one per device and hour; dataVersion 1). */
export interface DeviceSeenData {
  deviceId: string;
  tenantId: string;
  /** The start of the hour (UTC, ISO 8601). */
  hour: string;
  /** The newest point's instant the writer saw in that hour. */
  lastSeenAt: string;
}

/** ISO 10816-3 evaluation zones: A new, B unrestricted long-term, C restricted, D damage. */
export type VibrationZone = 'A' | 'B' | 'C' | 'D';

/** A health prediction for rotating equipment (iip.telemetry.maintenance.v1, keyed by device id; dataVersion 1). */
export interface MaintenancePredictedData {
  deviceId: string;
  tenantId: string;
  workOrderId: string;
  /** 0 (failed) … 100 (as new). */
  healthScore: number;
  zone: VibrationZone;
  /** Vibration velocity RMS now (robust level), mm/s, and its trend, mm/s per day. */
  vibrationRms: number;
  trendPerDay: number;
  /** Estimated time until the zone C/D boundary, days, with an interval. */
  remainingDays: number;
  remainingDaysLow: number;
  remainingDaysHigh: number;
  dueDate: string;
  predictedAt: string;
}

export type WorkOrderStatus = 'open' | 'in-progress' | 'closed';
/** What maintenance found: a failure counts toward the renewal rules' failure rate. */
export type WorkOrderOutcome = 'failure' | 'wear-repaired' | 'no-fault';

/** A maintenance work order after a change (iip.telemetry.maintenance.v1, keyed by device id; dataVersion 1). */
export interface WorkOrderEventData {
  id: string;
  deviceId: string;
  tenantId: string;
  status: WorkOrderStatus;
  reason: string;
  dueDate: string;
  outcome: WorkOrderOutcome | null;
  openedAt: string;
  closedAt: string | null;
  version: number;
}

/**
 * A command's life: queued (the device is offline or has not taken it) → delivered (the device
 * PUBACKed it) → succeeded | failed (the device answered) — or timed-out when no answer came in time.
 */
export type CommandStatus = 'queued' | 'delivered' | 'succeeded' | 'failed' | 'timed-out';

/** A command after a change (iip.telemetry.command.v1, keyed by device id; dataVersion 1). */
export interface CommandEventData {
  id: string;
  tenantId: string;
  deviceId: string;
  name: string;
  input: Record<string, unknown>;
  status: CommandStatus;
  output: Record<string, unknown> | null;
  error: string | null;
  requestedAt: string;
  expiresAt: string;
}

/** An event a device sent, checked against its thing model (iip.telemetry.thing-event.v1, keyed by device id; dataVersion 1). */
export interface ThingEventData {
  id: string;
  tenantId: string;
  deviceId: string;
  name: string;
  level: 'info' | 'alert' | 'fault';
  ts: string;
  data: Record<string, unknown>;
}

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
