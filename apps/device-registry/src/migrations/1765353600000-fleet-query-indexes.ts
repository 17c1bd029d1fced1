import { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes the fleet query's common predicates use at a million devices: tags, category, status. */
export class FleetQueryIndexes1765353600000 implements MigrationInterface {
  name = 'FleetQueryIndexes1765353600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX devices_tags ON device_registry.devices USING gin (tags jsonb_path_ops)`);
    await q.query(`CREATE INDEX devices_category ON device_registry.devices (category, id)`);
    await q.query(`CREATE INDEX devices_status ON device_registry.devices (status, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const i of ['devices_tags', 'devices_category', 'devices_status']) await q.query(`DROP INDEX device_registry.${i}`);
  }
}
