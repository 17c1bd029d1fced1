import { Principal, canManage } from '@iip/platform-auth';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { KnownTenant, TenantsRepository } from './tenants.repository';
import { EntityManager } from 'typeorm';

/**
 * The tenant a write is for: the caller's own, or (tenantId) one below it that it manages.
 * A tenant the caller may not manage reads as one that does not exist.
 */
export async function targetTenant(
  tenants: TenantsRepository,
  actor: Principal,
  tenantId: string | undefined,
  manager?: EntityManager,
): Promise<KnownTenant> {
  const known = await knownTenant(tenants, actor, tenantId, manager);
  const id = known.id;
  if (!canManage(actor.tenant, known))
    throw new DeviceRegistryError(DeviceRegistryErrorCode.TENANT_NOT_FOUND, `Tenant ${id} was not found`);
  if (known.status === 'suspended') throw new DeviceRegistryError(DeviceRegistryErrorCode.TENANT_SUSPENDED, `Tenant ${id} is suspended`);
  return known;
}

/**
 * The tenant `tenantId` (default: the caller's own) as this service knows it from tenancy's
 * events: 503 TENANT_NOT_KNOWN_YET for the caller's own tenant not heard of yet, 404 for another.
 */
export async function knownTenant(
  tenants: TenantsRepository,
  actor: Principal,
  tenantId: string | undefined,
  manager?: EntityManager,
): Promise<KnownTenant> {
  const id = tenantId ?? actor.tenant.id;
  const known = await tenants.find(id, manager);
  if (known) return known;
  if (id === actor.tenant.id) {
    throw new DeviceRegistryError(
      DeviceRegistryErrorCode.TENANT_NOT_KNOWN_YET,
      `This service has not heard of tenant ${id} from tenancy yet; retry in a moment`,
    );
  }
  throw new DeviceRegistryError(DeviceRegistryErrorCode.TENANT_NOT_FOUND, `Tenant ${id} was not found`);
}
