import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository's proto/ folder, found from this file whether it runs from src or dist. */
export function protoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 10; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'iip'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/ folder not found above ${__dirname}`);
}

export const ProtoFiles = {
  tenancy: 'iip/tenancy/v1/tenancy.proto',
  identifier: 'iip/identifier/v1/identifier.proto',
  deviceRegistry: 'iip/device_registry/v1/device_registry.proto',
  /** Renewal candidates and indicators: same package as deviceRegistry, served by the same server. */
  deviceRegistryRenewalIndicators: 'iip/device_registry/v1/renewal.proto',
  /** Renewal projects: same package as deviceRegistry, served by the same server. */
  deviceRegistryRenewal: 'iip/device_registry/v1/renewal_projects.proto',
  telemetry: 'iip/telemetry/v1/telemetry.proto',
} as const;

export const ProtoPackages = {
  tenancy: 'iip.tenancy.v1',
  identifier: 'iip.identifier.v1',
  deviceRegistry: 'iip.device_registry.v1',
  telemetry: 'iip.telemetry.v1',
} as const;
