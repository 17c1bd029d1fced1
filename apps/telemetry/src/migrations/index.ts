import { InitialTelemetry1765612800000 } from './1765612800000-initial-telemetry';

export const telemetryMigrations = [InitialTelemetry1765612800000];
