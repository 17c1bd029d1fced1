import { MigrationInterface, QueryRunner } from 'typeorm';

/** A tenant's own retention (PUT /v1/telemetry/retention); a tenant without a row keeps the defaults. */
export class TenantRetention1766000000000 implements MigrationInterface {
  name = 'TenantRetention1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE telemetry.tenant_retention (
        tenant_id uuid PRIMARY KEY,
        raw_days integer NOT NULL CHECK (raw_days BETWEEN 1 AND 3650),
        rollup_days integer NOT NULL CHECK (rollup_days BETWEEN 1 AND 3650),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CHECK (rollup_days >= raw_days)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS telemetry.tenant_retention`);
  }
}
