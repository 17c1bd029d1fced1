import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenants tenancy has announced as suspended, kept from its tenant events. Tokens of a suspended
 * tenant die through the revocation view, but handle identities (HS_SECKEY) are checked here and
 * must stay refused for as long as the suspension lasts, not only within the token window.
 */
export class SuspendedTenants1764835200000 implements MigrationInterface {
  name = 'SuspendedTenants1764835200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE identifier.suspended_tenants (
        tenant_id uuid PRIMARY KEY,
        suspended_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identifier.suspended_tenants`);
  }
}
