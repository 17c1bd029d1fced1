import { InitialTenancy1764489600000 } from './1764489600000-initial-tenancy';
import { GrantsToAnyTenantId1765000000000 } from './1765000000000-grants-to-any-tenant-id';
import { BulkOutboxRows1765094400000 } from './1765094400000-bulk-outbox-rows';

export const tenancyMigrations = [InitialTenancy1764489600000, GrantsToAnyTenantId1765000000000, BulkOutboxRows1765094400000];
