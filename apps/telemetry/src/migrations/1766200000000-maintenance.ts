import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rotating-equipment health: profiles (per device or per thing model), each device's evaluator
 * state (its open hour, hourly levels and newest evaluation, with the instant it has seen up to),
 * and maintenance work orders — one open per device.
 */
export class Maintenance1766200000000 implements MigrationInterface {
  name = 'Maintenance1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE telemetry.maintenance_profiles (
        tenant_id uuid NOT NULL,
        target_id uuid NOT NULL,
        target text NOT NULL CHECK (target IN ('device', 'model')),
        model_version integer NOT NULL,
        properties jsonb NOT NULL,
        conversions jsonb NOT NULL,
        machine_group smallint NOT NULL CHECK (machine_group IN (1, 2)),
        foundation text NOT NULL CHECK (foundation IN ('rigid', 'flexible')),
        best_efficiency_point jsonb,
        bearing_limits jsonb,
        version integer NOT NULL DEFAULT 1,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, target_id)
      )`);
    await q.query(`CREATE INDEX maintenance_profiles_target ON telemetry.maintenance_profiles (target_id)`);
    await q.query(`
      CREATE TABLE telemetry.maintenance_states (
        tenant_id uuid NOT NULL,
        device_id uuid NOT NULL,
        state jsonb NOT NULL,
        last_ts timestamptz(3),
        health jsonb,
        evaluations bigint NOT NULL DEFAULT 0,
        evaluated_at timestamptz(3),
        PRIMARY KEY (tenant_id, device_id)
      )`);
    await q.query(`CREATE UNIQUE INDEX maintenance_states_device ON telemetry.maintenance_states (device_id)`);
    await q.query(`
      CREATE TABLE telemetry.work_orders (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        device_id uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('open', 'in-progress', 'closed')),
        reason text NOT NULL,
        due_date timestamptz(3) NOT NULL,
        prediction jsonb NOT NULL,
        predictions integer NOT NULL DEFAULT 1,
        outcome text CHECK (outcome IN ('failure', 'wear-repaired', 'no-fault')),
        notes text,
        opened_at timestamptz(3) NOT NULL DEFAULT now(),
        closed_at timestamptz(3),
        closed_by text,
        version integer NOT NULL DEFAULT 1,
        PRIMARY KEY (tenant_id, id),
        CHECK ((status = 'closed') = (outcome IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX work_orders_id ON telemetry.work_orders (id)`);
    // One open work order per device: a repeated prediction updates it.
    await q.query(`CREATE UNIQUE INDEX work_orders_one_open ON telemetry.work_orders (tenant_id, device_id) WHERE status <> 'closed'`);
    await q.query(`CREATE INDEX work_orders_by_tenant ON telemetry.work_orders (tenant_id, opened_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS telemetry.work_orders`);
    await q.query(`DROP TABLE IF EXISTS telemetry.maintenance_states`);
    await q.query(`DROP TABLE IF EXISTS telemetry.maintenance_profiles`);
  }
}
