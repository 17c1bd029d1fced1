import { InitialIdentifier1764576000000 } from './1764576000000-initial-identifier';
import { ValuesWithoutForeignKey1764662400000 } from './1764662400000-values-without-foreign-key';
import { PublicAdminValues1764748800000 } from './1764748800000-public-admin-values';
import { SuspendedTenants1764835200000 } from './1764835200000-suspended-tenants';
import { SealedSecretKeys1764921600000 } from './1764921600000-sealed-secret-keys';
import { IdentifiersWithoutPrefixKey1765008000000 } from './1765008000000-identifiers-without-prefix-key';
import { ValuesOnlyOfIdentifiers1765051200000 } from './1765051200000-values-only-of-identifiers';
import { BulkOutboxRows1765094400000 } from './1765094400000-bulk-outbox-rows';

export const identifierMigrations = [
  InitialIdentifier1764576000000,
  ValuesWithoutForeignKey1764662400000,
  PublicAdminValues1764748800000,
  SuspendedTenants1764835200000,
  SealedSecretKeys1764921600000,
  IdentifiersWithoutPrefixKey1765008000000,
  ValuesOnlyOfIdentifiers1765051200000,
  BulkOutboxRows1765094400000,
];
