import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Values are written and removed only together with their identifier, in the same transaction
 * (IdentifiersRepository), so the per-row foreign-key check — half the cost of a 5,000-identifier
 * batch insert — buys nothing. The repository deletes values explicitly instead of by cascade.
 */
export class ValuesWithoutForeignKey1764662400000 implements MigrationInterface {
  name = 'ValuesWithoutForeignKey1764662400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `DELETE FROM identifier.identifier_values v WHERE NOT EXISTS (SELECT 1 FROM identifier.identifiers i WHERE i.key = v.key)`,
    );
    await q.query(`ALTER TABLE identifier.identifier_values DROP CONSTRAINT IF EXISTS identifier_values_key_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE identifier.identifier_values ADD CONSTRAINT identifier_values_key_fkey FOREIGN KEY (key) REFERENCES identifier.identifiers(key) ON DELETE CASCADE`,
    );
  }
}
