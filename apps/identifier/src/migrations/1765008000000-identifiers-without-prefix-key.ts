import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * identifiers.prefix loses its foreign key: the key's check ran once per inserted row (a
 * batch of 5,000 paid 5,000 lookups for its one prefix). Prefixes are never deleted, and a
 * registration locks its prefixes' rows FOR KEY SHARE in its transaction, once per prefix
 * (IdentifiersRepository.insertMany), which is what the key's check did per row.
 */
export class IdentifiersWithoutPrefixKey1765008000000 implements MigrationInterface {
  name = 'IdentifiersWithoutPrefixKey1765008000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identifier.identifiers DROP CONSTRAINT IF EXISTS identifiers_prefix_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE identifier.identifiers ADD CONSTRAINT identifiers_prefix_fkey FOREIGN KEY (prefix) REFERENCES identifier.prefixes(prefix)`,
    );
  }
}
