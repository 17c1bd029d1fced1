import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@iip/platform-kafka';

export class InitialIdentifier1764576000000 implements MigrationInterface {
  name = 'InitialIdentifier1764576000000';

  async up(q: QueryRunner): Promise<void> {
    // Prefixes this node hosts: its own (kind node) and the enterprise prefixes under it.
    await q.query(`
      CREATE TABLE identifier.prefixes (
        prefix text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('node','enterprise')),
        allocation text NOT NULL CHECK (allocation IN ('configured','auto','manual')),
        tenant_id uuid,
        tenant_kind text,
        tenant_path uuid[],
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    // A tenant gets one prefix automatically (more by hand from the operator).
    await q.query(`CREATE UNIQUE INDEX prefixes_one_auto_per_tenant ON identifier.prefixes (tenant_id) WHERE allocation = 'auto'`);
    await q.query(`CREATE INDEX prefixes_tenant ON identifier.prefixes (tenant_id)`);
    await q.query(`CREATE SEQUENCE identifier.enterprise_prefix_seq`);

    // Prefixes other nodes answer for.
    await q.query(`
      CREATE TABLE identifier.delegations (
        prefix text PRIMARY KEY,
        base_url text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE identifier.templates (
        kind text NOT NULL,
        version integer NOT NULL,
        schema jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, version)
      )`);

    // key = prefix + '/' + suffix with ASCII case folded: the Handle System's comparison.
    await q.query(`
      CREATE TABLE identifier.identifiers (
        key text PRIMARY KEY,
        handle text NOT NULL,
        prefix text NOT NULL REFERENCES identifier.prefixes(prefix),
        tenant_id uuid NOT NULL,
        template_kind text,
        template_version integer,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX identifiers_by_prefix ON identifier.identifiers (prefix, key)`);

    await q.query(`
      CREATE TABLE identifier.identifier_values (
        key text NOT NULL REFERENCES identifier.identifiers(key) ON DELETE CASCADE,
        idx integer NOT NULL CHECK (idx > 0),
        type text NOT NULL,
        format text NOT NULL,
        value jsonb NOT NULL,
        ttl integer NOT NULL,
        access text NOT NULL CHECK (access IN ('public','tenant','granted')),
        grantees uuid[] NOT NULL DEFAULT '{}',
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (key, idx)
      )`);
    // Reverse lookup: a serial number (type + string value) back to its identifiers.
    await q.query(
      `CREATE INDEX identifier_values_reverse ON identifier.identifier_values (type, (value #>> '{}'), key) WHERE format = 'string'`,
    );

    await q.query(`
      CREATE TABLE identifier.idempotency_keys (
        tenant_id uuid NOT NULL,
        idem_key text NOT NULL,
        request_hash text NOT NULL,
        status integer NOT NULL,
        body jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, idem_key)
      )`);

    await q.query(`
      CREATE TABLE identifier.resolution_counts (
        prefix text NOT NULL,
        hour timestamptz NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (prefix, hour)
      )`);

    for (const sql of messagingTablesSql('identifier')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'processed_events',
      'outbox',
      'resolution_counts',
      'idempotency_keys',
      'identifier_values',
      'identifiers',
      'templates',
      'delegations',
      'prefixes',
    ]) {
      await q.query(`DROP TABLE IF EXISTS identifier.${t}`);
    }
    await q.query(`DROP SEQUENCE IF EXISTS identifier.enterprise_prefix_seq`);
  }
}
