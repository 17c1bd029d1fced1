import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Commands to devices (queued until the device takes them, answered or timed out) and the events
 * devices send; devices keep their serial number here too, so an edge bridge can map a site
 * broker's topic (which names the serial) to the device.
 */
export class CommandsAndThingEvents1765900000000 implements MigrationInterface {
  name = 'CommandsAndThingEvents1765900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE telemetry.devices ADD COLUMN serial text`);
    await q.query(`CREATE INDEX devices_serial ON telemetry.devices (serial) WHERE serial IS NOT NULL`);
    await q.query(`
      CREATE TABLE telemetry.commands (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        device_id uuid NOT NULL,
        name text NOT NULL,
        input jsonb NOT NULL,
        status text NOT NULL,
        output jsonb,
        error text,
        requested_by text NOT NULL,
        requested_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        delivered_at timestamptz(3),
        completed_at timestamptz(3),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX commands_id ON telemetry.commands (id)`);
    await q.query(`CREATE INDEX commands_open ON telemetry.commands (device_id, requested_at) WHERE status IN ('queued', 'delivered')`);
    await q.query(`CREATE INDEX commands_expiry ON telemetry.commands (expires_at) WHERE status IN ('queued', 'delivered')`);
    await q.query(`CREATE INDEX commands_by_device ON telemetry.commands (tenant_id, device_id, requested_at DESC)`);
    // A device sending the same event again (it got no PUBACK) meets its own key.
    await q.query(`
      CREATE TABLE telemetry.thing_events (
        tenant_id uuid NOT NULL,
        device_id uuid NOT NULL,
        name text NOT NULL,
        ts timestamptz(3) NOT NULL,
        id uuid NOT NULL,
        level text NOT NULL,
        data jsonb NOT NULL,
        received_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, device_id, name, ts)
      )`);
    await q.query(`CREATE INDEX thing_events_by_time ON telemetry.thing_events (tenant_id, device_id, ts DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS telemetry.thing_events`);
    await q.query(`DROP TABLE IF EXISTS telemetry.commands`);
    await q.query(`ALTER TABLE telemetry.devices DROP COLUMN IF EXISTS serial`);
  }
}
