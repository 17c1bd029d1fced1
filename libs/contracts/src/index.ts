export * from './device-registry-events';
export * from './envelope';
export * from './identifier-events';
export * from './proto-paths';
export * from './tenancy-events';
export * from './topics';
export * as TenancyV1 from './generated/iip/tenancy/v1/tenancy';
export * as IdentifierV1 from './generated/iip/identifier/v1/identifier';
export * as DeviceRegistryV1 from './generated/iip/device_registry/v1/device_registry';
