import { InitialTelemetry1765612800000 } from './1765612800000-initial-telemetry';
import { TenantRetention1766000000000 } from './1766000000000-tenant-retention';

export const telemetryMigrations = [InitialTelemetry1765612800000, TenantRetention1766000000000];
