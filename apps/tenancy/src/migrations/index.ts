import { InitialTenancy1764489600000 } from './1764489600000-initial-tenancy';
import { GrantsToAnyTenantId1765000000000 } from './1765000000000-grants-to-any-tenant-id';

export const tenancyMigrations = [InitialTenancy1764489600000, GrantsToAnyTenantId1765000000000];
