import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Removes values whose identifier is gone: rows a delete left behind when it ran on a release
 * that still relied on the dropped cascade (ValuesWithoutForeignKey). Every release since
 * deletes an identifier's values with it, so a new registration's values go in without first
 * clearing its keys.
 */
export class ValuesOnlyOfIdentifiers1765051200000 implements MigrationInterface {
  name = 'ValuesOnlyOfIdentifiers1765051200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `DELETE FROM identifier.identifier_values v WHERE NOT EXISTS (SELECT 1 FROM identifier.identifiers i WHERE i.key = v.key)`,
    );
  }

  async down(): Promise<void> {
    // Nothing to restore: the rows removed belonged to no identifier.
  }
}
