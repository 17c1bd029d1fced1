/** Scopes the device registry understands (tenancy issues them like every other scope). */
export const DeviceScopes = {
  DevicesRead: 'devices:read',
  DevicesWrite: 'devices:write',
  ModelsWrite: 'models:write',
  /** AuthenticateDevice: telemetry's service client checks devices' credentials. */
  DevicesAuthenticate: 'devices:authenticate',
} as const;

/** Renewal rules, candidates, indicators and investments (README, "Renewal"). */
export const RenewalScopes = {
  RenewalRead: 'renewal:read',
  RenewalWrite: 'renewal:write',
} as const;
