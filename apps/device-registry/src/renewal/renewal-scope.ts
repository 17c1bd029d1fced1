import { Principal, relationTo } from '@iip/platform-auth';
import { EntityManager } from 'typeorm';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { knownTenant } from '../tenants/tenant-scope';
import { KnownTenant, TenantsRepository } from '../tenants/tenants.repository';

/**
 * The tenant whose AGGREGATES the actor asks for: itself, one of its subtree, any for the
 * operator, and a park's members (a park sees their aggregates, never their devices). Any
 * other reads as missing (404), so existence does not leak.
 */
export async function aggregateTenant(
  tenants: TenantsRepository,
  actor: Principal,
  tenantId?: string,
  manager?: EntityManager,
): Promise<KnownTenant> {
  const known = await knownTenant(tenants, actor, tenantId, manager);
  if (relationTo(actor.tenant, known) === 'none') throw notFound(known.id);
  return known;
}

export function notFound(id: string): DeviceRegistryError {
  return new DeviceRegistryError(DeviceRegistryErrorCode.TENANT_NOT_FOUND, `Tenant ${id} was not found`);
}
