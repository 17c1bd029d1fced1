import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@iip/platform-kafka';

export class InitialTenancy1764489600000 implements MigrationInterface {
  name = 'InitialTenancy1764489600000';

  // Timestamps have millisecond precision so keyset cursors, which pass through JS Dates, compare exactly.
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenancy.tenants (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('platform','group','subsidiary','park','park-member')),
        parent_id uuid REFERENCES tenancy.tenants(id),
        path uuid[] NOT NULL,
        name text NOT NULL,
        credit_code char(18) NOT NULL,
        contact jsonb NOT NULL DEFAULT '{}'::jsonb,
        max_devices integer NOT NULL,
        max_telemetry_pps integer NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended')),
        suspended_reason text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT tenants_credit_code_unique UNIQUE (credit_code),
        CONSTRAINT tenants_parent_required CHECK ((kind = 'platform') = (parent_id IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX tenants_single_platform ON tenancy.tenants ((kind)) WHERE kind = 'platform'`);
    await q.query(`CREATE INDEX tenants_path_gin ON tenancy.tenants USING gin (path)`);
    await q.query(`CREATE INDEX tenants_parent ON tenancy.tenants (parent_id, created_at, id)`);
    await q.query(`CREATE INDEX tenants_created ON tenancy.tenants (created_at, id)`);

    await q.query(`
      CREATE TABLE tenancy.oauth_clients (
        client_id text PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenancy.tenants(id),
        name text NOT NULL,
        secret_hash text NOT NULL,
        scopes text[] NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','revoked')),
        created_by text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz
      )`);
    await q.query(`CREATE INDEX oauth_clients_tenant ON tenancy.oauth_clients (tenant_id, created_at)`);

    await q.query(`
      CREATE TABLE tenancy.signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_enc text NOT NULL,
        status text NOT NULL CHECK (status IN ('next','active','retired')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX signing_keys_one_current ON tenancy.signing_keys ((status)) WHERE status IN ('active', 'next')`);

    await q.query(`
      CREATE TABLE tenancy.onboarding_jobs (
        id uuid PRIMARY KEY,
        parent_id uuid NOT NULL REFERENCES tenancy.tenants(id),
        created_by_tenant uuid NOT NULL,
        created_by_client text NOT NULL,
        format text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending','running','completed')),
        total integer NOT NULL,
        processed integer NOT NULL DEFAULT 0,
        created integer NOT NULL DEFAULT 0,
        existing integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX onboarding_jobs_open ON tenancy.onboarding_jobs (created_at) WHERE status <> 'completed'`);
    await q.query(`
      CREATE TABLE tenancy.onboarding_job_rows (
        job_id uuid NOT NULL REFERENCES tenancy.onboarding_jobs(id) ON DELETE CASCADE,
        line integer NOT NULL,
        input jsonb,
        parse_error text,
        status text NOT NULL CHECK (status IN ('pending','created','existing','failed')),
        tenant_id uuid,
        error_code text,
        error_message text,
        PRIMARY KEY (job_id, line)
      )`);
    await q.query(`CREATE INDEX onboarding_rows_pending ON tenancy.onboarding_job_rows (job_id, line) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE tenancy.data_grants (
        grantor_id uuid NOT NULL REFERENCES tenancy.tenants(id),
        grantee_id uuid NOT NULL REFERENCES tenancy.tenants(id),
        data_scope text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (grantor_id, grantee_id, data_scope)
      )`);

    for (const sql of messagingTablesSql('tenancy')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'processed_events',
      'outbox',
      'data_grants',
      'onboarding_job_rows',
      'onboarding_jobs',
      'signing_keys',
      'oauth_clients',
      'tenants',
    ]) {
      await q.query(`DROP TABLE IF EXISTS tenancy.${table}`);
    }
  }
}
