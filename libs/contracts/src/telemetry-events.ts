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
} as const;

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
