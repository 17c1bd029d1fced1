import { MigrationInterface, QueryRunner } from 'typeorm';

/** Bulk device imports: the job, and every row as uploaded with its result once processed. */
export class DeviceImports1765440000000 implements MigrationInterface {
  name = 'DeviceImports1765440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_registry.device_import_jobs (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        created_by text NOT NULL,
        media_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'cancelled')),
        total integer NOT NULL,
        processed integer NOT NULL DEFAULT 0,
        created integer NOT NULL DEFAULT 0,
        existing integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz(3),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX device_import_jobs_id ON device_registry.device_import_jobs (id)`);
    await q.query(`CREATE INDEX device_import_jobs_running ON device_registry.device_import_jobs (created_at) WHERE status = 'running'`);
    await q.query(`
      CREATE TABLE device_registry.device_import_rows (
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL,
        row_no integer NOT NULL,
        line integer NOT NULL,
        input jsonb,
        parse_error text,
        status text CHECK (status IN ('created', 'existing', 'failed')),
        device_id uuid,
        error jsonb,
        PRIMARY KEY (tenant_id, job_id, row_no)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device_registry.device_import_rows`);
    await q.query(`DROP TABLE device_registry.device_import_jobs`);
  }
}
