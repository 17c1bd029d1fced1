import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Renewal projects (the plan's 重点项目库): the old devices they renew, the models replacing them,
 * funding, the steps reached, and the replacements made; each device records its link.
 * Every key starts with tenant_id (Citus). A project's place in the tree is its tenant's, read from
 * `tenants` (so a tenant moved in the tree takes its projects along).
 */
export class RenewalProjects1765540000000 implements MigrationInterface {
  name = 'RenewalProjects1765540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_registry.renewal_projects (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        name text NOT NULL,
        description text,
        status text NOT NULL CHECK (status IN ('planned', 'approved', 'procured', 'installed', 'verified')),
        estimated_investment_cny numeric(18, 2) NOT NULL CHECK (estimated_investment_cny >= 0),
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX renewal_projects_id ON device_registry.renewal_projects (id)`);
    // The old devices; a device is renewed by one project at most.
    await q.query(`
      CREATE TABLE device_registry.renewal_project_devices (
        tenant_id uuid NOT NULL,
        project_id uuid NOT NULL,
        device_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, project_id, device_id),
        FOREIGN KEY (tenant_id, project_id) REFERENCES device_registry.renewal_projects (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX renewal_project_devices_device ON device_registry.renewal_project_devices (device_id)`);
    await q.query(`
      CREATE TABLE device_registry.renewal_project_models (
        tenant_id uuid NOT NULL,
        project_id uuid NOT NULL,
        model_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, project_id, model_id),
        FOREIGN KEY (tenant_id, project_id) REFERENCES device_registry.renewal_projects (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE device_registry.renewal_project_funding (
        tenant_id uuid NOT NULL,
        project_id uuid NOT NULL,
        source text NOT NULL CHECK (source IN ('central-budget', 'technical-renewal-reloan', 'tax-incentive', 'own-funds')),
        amount_cny numeric(18, 2) NOT NULL CHECK (amount_cny >= 0),
        PRIMARY KEY (tenant_id, project_id, source),
        FOREIGN KEY (tenant_id, project_id) REFERENCES device_registry.renewal_projects (tenant_id, id) ON DELETE CASCADE
      )`);
    // What was actually spent, per calendar year (copied to equipment_investments for the indicators).
    await q.query(`
      CREATE TABLE device_registry.renewal_project_investments (
        tenant_id uuid NOT NULL,
        project_id uuid NOT NULL,
        year integer NOT NULL CHECK (year BETWEEN 1900 AND 9999),
        amount_cny numeric(18, 2) NOT NULL CHECK (amount_cny >= 0),
        PRIMARY KEY (tenant_id, project_id, year),
        FOREIGN KEY (tenant_id, project_id) REFERENCES device_registry.renewal_projects (tenant_id, id) ON DELETE CASCADE
      )`);
    // Each step reached, once: when and by which client.
    await q.query(`
      CREATE TABLE device_registry.renewal_project_steps (
        tenant_id uuid NOT NULL,
        project_id uuid NOT NULL,
        status text NOT NULL,
        at timestamptz(3) NOT NULL DEFAULT now(),
        by_client text NOT NULL,
        PRIMARY KEY (tenant_id, project_id, status),
        FOREIGN KEY (tenant_id, project_id) REFERENCES device_registry.renewal_projects (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE device_registry.renewal_replacements (
        tenant_id uuid NOT NULL,
        project_id uuid NOT NULL,
        old_device_id uuid NOT NULL,
        new_device_id uuid NOT NULL,
        at timestamptz(3) NOT NULL DEFAULT now(),
        by_client text NOT NULL,
        PRIMARY KEY (tenant_id, project_id, old_device_id),
        FOREIGN KEY (tenant_id, project_id) REFERENCES device_registry.renewal_projects (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX renewal_replacements_new ON device_registry.renewal_replacements (new_device_id)`);
    // The link, on the devices themselves (their events carry the partner's handle).
    await q.query(`ALTER TABLE device_registry.devices ADD COLUMN replaces uuid, ADD COLUMN replaced_by uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE device_registry.devices DROP COLUMN IF EXISTS replaces, DROP COLUMN IF EXISTS replaced_by`);
    for (const t of [
      'renewal_replacements',
      'renewal_project_steps',
      'renewal_project_investments',
      'renewal_project_funding',
      'renewal_project_models',
      'renewal_project_devices',
      'renewal_projects',
    ]) {
      await q.query(`DROP TABLE IF EXISTS device_registry.${t}`);
    }
  }
}
