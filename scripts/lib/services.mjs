// The services `npm start` runs, in start order. Add a line here when a service lands.
export const SERVICES = [
  {
    name: 'tenancy',
    httpPortVar: 'TENANCY_HTTP_PORT',
    httpPort: 3100,
    grpcPortVar: 'TENANCY_GRPC_PORT',
    grpcPort: 50100,
    main: 'dist/apps/tenancy/src/main.js',
    migrate: 'dist/apps/tenancy/src/migrate.js',
  },
  {
    name: 'identifier',
    httpPortVar: 'IDENTIFIER_HTTP_PORT',
    httpPort: 3200,
    grpcPortVar: 'IDENTIFIER_GRPC_PORT',
    grpcPort: 50200,
    main: 'dist/apps/identifier/src/main.js',
    migrate: 'dist/apps/identifier/src/migrate.js',
  },
  {
    name: 'device-registry',
    httpPortVar: 'DEVICE_REGISTRY_HTTP_PORT',
    httpPort: 3300,
    grpcPortVar: 'DEVICE_REGISTRY_GRPC_PORT',
    grpcPort: 50300,
    main: 'dist/apps/device-registry/src/main.js',
    migrate: 'dist/apps/device-registry/src/migrate.js',
  },
];
