import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@iip/platform-kafka';

/**
 * Points live in a table partitioned by day (partitions are created ahead and dropped by
 * retention: PartitionMaintenance); rollups by minute, hour and day are kept beside them, in the
 * same transaction as the points they count. Every key starts with tenant_id (Citus-ready).
 */
export class InitialTelemetry1765612800000 implements MigrationInterface {
  name = 'InitialTelemetry1765612800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE telemetry.tenants (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        path uuid[] NOT NULL,
        status text NOT NULL,
        max_points_per_second integer NOT NULL,
        version integer NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE telemetry.devices (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        tenant_path uuid[] NOT NULL,
        tenant_kind text NOT NULL,
        model_id uuid NOT NULL,
        model_version integer NOT NULL,
        status text NOT NULL,
        gateway_id uuid,
        version integer NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX devices_id ON telemetry.devices (id)`);
    await q.query(`CREATE INDEX devices_gateway ON telemetry.devices (gateway_id) WHERE gateway_id IS NOT NULL`);

    // One row per (device, property, instant): a redelivered point meets its own key and is not stored twice.
    await q.query(`
      CREATE TABLE telemetry.points (
        tenant_id uuid NOT NULL,
        device_id uuid NOT NULL,
        property text NOT NULL,
        ts timestamptz(3) NOT NULL,
        num double precision,
        bool boolean,
        str text,
        json jsonb,
        PRIMARY KEY (tenant_id, device_id, property, ts)
      ) PARTITION BY RANGE (ts)`);

    for (const table of ['rollup_1m', 'rollup_1h', 'rollup_1d']) {
      await q.query(`
        CREATE TABLE telemetry.${table} (
          tenant_id uuid NOT NULL,
          device_id uuid NOT NULL,
          property text NOT NULL,
          bucket timestamptz NOT NULL,
          count bigint NOT NULL,
          min double precision NOT NULL,
          max double precision NOT NULL,
          sum double precision NOT NULL,
          first double precision NOT NULL,
          first_ts timestamptz(3) NOT NULL,
          last double precision NOT NULL,
          last_ts timestamptz(3) NOT NULL,
          PRIMARY KEY (tenant_id, device_id, property, bucket)
        )`);
    }

    await q.query(`
      CREATE TABLE telemetry.rules (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        name text NOT NULL,
        device_id uuid,
        model_id uuid,
        property text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('threshold', 'rate', 'no-data')),
        params jsonb NOT NULL,
        severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CHECK ((device_id IS NULL) <> (model_id IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX rules_id ON telemetry.rules (id)`);
    // What a rule remembers of a device between points (since when a condition holds, the last value seen).
    await q.query(`
      CREATE TABLE telemetry.rule_states (
        tenant_id uuid NOT NULL,
        rule_id uuid NOT NULL,
        device_id uuid NOT NULL,
        state jsonb NOT NULL,
        last_ts timestamptz(3),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, rule_id, device_id)
      )`);
    // ISA-18.2: active-unacknowledged → active-acknowledged → cleared (or cleared-unacknowledged → acknowledged).
    await q.query(`
      CREATE TABLE telemetry.alarms (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        rule_id uuid NOT NULL,
        device_id uuid NOT NULL,
        severity text NOT NULL,
        state text NOT NULL CHECK (state IN ('active-unacknowledged', 'active-acknowledged', 'cleared-unacknowledged', 'cleared')),
        message text NOT NULL,
        value double precision,
        raised_at timestamptz(3) NOT NULL,
        acknowledged_at timestamptz(3),
        acknowledged_by text,
        cleared_at timestamptz(3),
        shelved_until timestamptz(3),
        version integer NOT NULL DEFAULT 1,
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX alarms_id ON telemetry.alarms (id)`);
    // De-duplication: one alarm of a rule and device is active at a time.
    await q.query(
      `CREATE UNIQUE INDEX alarms_one_active ON telemetry.alarms (tenant_id, rule_id, device_id) WHERE state IN ('active-unacknowledged', 'active-acknowledged')`,
    );
    await q.query(`CREATE INDEX alarms_by_tenant ON telemetry.alarms (tenant_id, raised_at DESC)`);

    for (const sql of messagingTablesSql('telemetry')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'processed_events',
      'outbox',
      'alarms',
      'rule_states',
      'rules',
      'rollup_1d',
      'rollup_1h',
      'rollup_1m',
      'points',
      'devices',
      'tenants',
    ]) {
      await q.query(`DROP TABLE IF EXISTS telemetry.${t} CASCADE`);
    }
  }
}
