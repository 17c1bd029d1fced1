import { InitialTelemetry1765612800000 } from './1765612800000-initial-telemetry';
import { TenantRetention1766000000000 } from './1766000000000-tenant-retention';
import { CommandsAndThingEvents1765900000000 } from './1765900000000-commands-and-thing-events';
import { Maintenance1766200000000 } from './1766200000000-maintenance';

export const telemetryMigrations = [
  InitialTelemetry1765612800000,
  CommandsAndThingEvents1765900000000,
  TenantRetention1766000000000,
  Maintenance1766200000000,
];
