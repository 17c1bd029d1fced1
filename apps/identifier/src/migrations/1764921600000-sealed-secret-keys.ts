import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The native Handle protocol's secret-key challenge–response (RFC 3652 §3.5) needs the secret
 * itself, not only its hash: an HS_SECKEY row keeps its scrypt hash in `value` (what HTTP Basic
 * checks) and, next to it, the secret sealed with IDENTIFIER_KEY_ENCRYPTION_SECRET. Keys stored
 * before this have no sealed copy and authenticate over HTTP Basic only until they are set again.
 */
export class SealedSecretKeys1764921600000 implements MigrationInterface {
  name = 'SealedSecretKeys1764921600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identifier.identifier_values ADD COLUMN sealed_secret text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identifier.identifier_values DROP COLUMN sealed_secret`);
  }
}
