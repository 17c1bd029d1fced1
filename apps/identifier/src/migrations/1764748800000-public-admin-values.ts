import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * HS_ADMIN (index 100) is public, as in the Handle System, in its standard shape
 * `{handle, index, permissions}` with the default permissions `011111110011` (values.ts
 * adminValue). Values written before carried the owner's tenant id and were tenant-only; the
 * owner is read from the prefix, so the id is dropped rather than kept anywhere public.
 */
export class PublicAdminValues1764748800000 implements MigrationInterface {
  name = 'PublicAdminValues1764748800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE identifier.identifier_values
          SET value = jsonb_build_object('handle', value->'handle', 'index', 200, 'permissions', '011111110011'),
              access = 'public'
        WHERE idx = 100 AND type = 'HS_ADMIN' AND format = 'admin'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE identifier.identifier_values v
          SET value = jsonb_build_object('handle', v.value->'handle', 'index', 200, 'permissions', '111111111111', 'tenantId', i.tenant_id),
              access = 'tenant'
         FROM identifier.identifiers i
        WHERE i.key = v.key AND v.idx = 100 AND v.type = 'HS_ADMIN' AND v.format = 'admin'`,
    );
  }
}
