/** Scopes telemetry understands (tenancy issues them like every other scope). */
export const TelemetryScopes = {
  /** Send points for devices the caller manages (devices themselves use their credentials). */
  TelemetryWrite: 'telemetry:write',
  TelemetryRead: 'telemetry:read',
  /** A tenant's telemetry settings (retention). */
  TelemetryAdmin: 'telemetry:admin',
  /** Rules, and acknowledging and shelving alarms. */
  AlarmsWrite: 'alarms:write',
  /** Invoke commands of devices the caller manages. */
  CommandsWrite: 'commands:write',
  /** Maintenance profiles of devices and models, and closing work orders. */
  MaintenanceWrite: 'maintenance:write',
} as const;
