/** Scopes tenancy understands. A client can only hand out scopes it holds itself. */
export const Scopes = {
  TenantsRead: 'tenants:read',
  TenantsWrite: 'tenants:write',
  ClientsRead: 'clients:read',
  ClientsWrite: 'clients:write',
  GrantsWrite: 'grants:write',
  AccessCheck: 'access:check',
  KeysRotate: 'keys:rotate',
  // Defined by the identifier service; issued here like every other scope.
  IdentifiersWrite: 'identifiers:write',
  IdentifiersRead: 'identifiers:read',
  PrefixesWrite: 'prefixes:write',
  // Defined by the device registry.
  DevicesRead: 'devices:read',
  DevicesWrite: 'devices:write',
  ModelsWrite: 'models:write',
  DevicesAuthenticate: 'devices:authenticate',
  RenewalRead: 'renewal:read',
  RenewalWrite: 'renewal:write',
  // Defined by telemetry.
  TelemetryWrite: 'telemetry:write',
  TelemetryRead: 'telemetry:read',
  TelemetryAdmin: 'telemetry:admin',
  AlarmsWrite: 'alarms:write',
  CommandsWrite: 'commands:write',
  MaintenanceWrite: 'maintenance:write',
} as const;

export const ALL_SCOPES: readonly string[] = Object.values(Scopes);

/** Scopes other services define; tenancy issues them but does not interpret them. */
export const SCOPE_PATTERN = /^[a-z][a-z0-9-]*(?::[a-z][a-z0-9-]*)+$/;
