import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@iip/platform-kafka';

/** Every key of a tenant's data starts with tenant_id, so the tables can be sharded by tenant (Citus). */
export class InitialDeviceRegistry1765180800000 implements MigrationInterface {
  name = 'InitialDeviceRegistry1765180800000';

  async up(q: QueryRunner): Promise<void> {
    // What this service knows of tenancy's tenants, from its events: place in the tree, status, quota.
    await q.query(`
      CREATE TABLE device_registry.tenants (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        path uuid[] NOT NULL,
        status text NOT NULL,
        max_devices integer NOT NULL,
        version integer NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE device_registry.thing_models (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        tenant_path uuid[] NOT NULL,
        tenant_kind text NOT NULL,
        name text NOT NULL,
        description text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX thing_models_id ON device_registry.thing_models (id)`);
    // A published version never changes again; devices pin one.
    await q.query(`
      CREATE TABLE device_registry.thing_model_versions (
        tenant_id uuid NOT NULL,
        model_id uuid NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        definition jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('draft', 'published')),
        published_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, model_id, version),
        FOREIGN KEY (tenant_id, model_id) REFERENCES device_registry.thing_models (tenant_id, id)
      )`);
    await q.query(`
      CREATE TABLE device_registry.devices (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        tenant_path uuid[] NOT NULL,
        tenant_kind text NOT NULL,
        name text NOT NULL,
        manufacturer text NOT NULL,
        serial text NOT NULL,
        model_tenant_id uuid NOT NULL,
        model_id uuid NOT NULL,
        model_version integer NOT NULL,
        status text NOT NULL CHECK (status IN ('provisioned', 'active', 'suspended', 'decommissioned')),
        handle_suffix text NOT NULL,
        handle text,
        tags jsonb NOT NULL DEFAULT '{}'::jsonb,
        gateway_id uuid,
        category text,
        commissioned_on date,
        rated_power_kw numeric(12, 3),
        efficiency_grade smallint CHECK (efficiency_grade BETWEEN 1 AND 3),
        nc_capable boolean NOT NULL DEFAULT false,
        key_process boolean NOT NULL DEFAULT false,
        criticality text CHECK (criticality IN ('low', 'medium', 'high', 'critical')),
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, manufacturer, serial),
        FOREIGN KEY (model_tenant_id, model_id, model_version) REFERENCES device_registry.thing_model_versions (tenant_id, model_id, version)
      )`);
    await q.query(`CREATE UNIQUE INDEX devices_id ON device_registry.devices (id)`);
    // "Devices of my subtree": a group's id is in its subsidiaries' devices' paths.
    await q.query(`CREATE INDEX devices_tenant_path ON device_registry.devices USING gin (tenant_path)`);
    await q.query(`CREATE INDEX devices_gateway ON device_registry.devices (tenant_id, gateway_id) WHERE gateway_id IS NOT NULL`);
    for (const sql of messagingTablesSql('device_registry')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['processed_events', 'outbox', 'devices', 'thing_model_versions', 'thing_models', 'tenants']) {
      await q.query(`DROP TABLE IF EXISTS device_registry.${t}`);
    }
  }
}
