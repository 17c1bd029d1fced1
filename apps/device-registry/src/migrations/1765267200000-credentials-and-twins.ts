import { MigrationInterface, QueryRunner } from 'typeorm';

export class CredentialsAndTwins1765267200000 implements MigrationInterface {
  name = 'CredentialsAndTwins1765267200000';

  async up(q: QueryRunner): Promise<void> {
    // A secret is kept as an HMAC under the server's key, a certificate by its SHA-256 fingerprint.
    await q.query(`
      CREATE TABLE device_registry.device_credentials (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        device_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('secret', 'x509')),
        secret_hash bytea,
        fingerprint text,
        label text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        revoked_at timestamptz(3),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, device_id) REFERENCES device_registry.devices (tenant_id, id),
        CHECK ((kind = 'secret') = (secret_hash IS NOT NULL) AND (kind = 'x509') = (fingerprint IS NOT NULL))
      )`);
    // A device's credentials, listed whole or only the active ones.
    await q.query(`CREATE INDEX device_credentials_device ON device_registry.device_credentials (device_id, created_at)`);
    await q.query(
      `CREATE INDEX device_credentials_fingerprint ON device_registry.device_credentials (fingerprint) WHERE revoked_at IS NULL AND kind = 'x509'`,
    );
    // Desired and reported documents, each with a version and per-leaf timestamps (meta mirrors the document's shape).
    await q.query(`
      CREATE TABLE device_registry.twins (
        tenant_id uuid NOT NULL,
        device_id uuid NOT NULL,
        desired jsonb NOT NULL DEFAULT '{}'::jsonb,
        desired_meta jsonb NOT NULL DEFAULT '{}'::jsonb,
        desired_version integer NOT NULL DEFAULT 0,
        reported jsonb NOT NULL DEFAULT '{}'::jsonb,
        reported_meta jsonb NOT NULL DEFAULT '{}'::jsonb,
        reported_version integer NOT NULL DEFAULT 0,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, device_id),
        FOREIGN KEY (tenant_id, device_id) REFERENCES device_registry.devices (tenant_id, id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device_registry.twins`);
    await q.query(`DROP TABLE device_registry.device_credentials`);
  }
}
