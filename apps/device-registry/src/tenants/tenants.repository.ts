import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TenantEventData } from '@iip/contracts';
import { TenantKind } from '@iip/platform-auth';

export const DEVICE_REGISTRY_DATA_SOURCE = Symbol('DEVICE_REGISTRY_DATA_SOURCE');

export interface KnownTenant {
  id: string;
  kind: TenantKind;
  path: string[];
  status: 'active' | 'suspended';
  maxDevices: number;
}

/** This service's copy of tenancy's tenants (place in the tree, status, device quota). */
@Injectable()
export class TenantsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Applies a tenant's state unless a newer one is already known (events of one tenant arrive in order, but may be replayed). */
  async apply(manager: EntityManager, t: TenantEventData): Promise<void> {
    await manager.query(
      `INSERT INTO tenants (id, kind, path, status, max_devices, version) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, path = EXCLUDED.path, status = EXCLUDED.status,
         max_devices = EXCLUDED.max_devices, version = EXCLUDED.version, updated_at = now()
       WHERE tenants.version <= EXCLUDED.version`,
      [t.id, t.kind, t.path, t.status, t.quotas.maxDevices, t.version],
    );
    // A tenant moved in the tree takes its devices along.
    await manager.query(`UPDATE devices SET tenant_path = $2, tenant_kind = $3 WHERE tenant_id = $1 AND tenant_path <> $2`, [
      t.id,
      t.path,
      t.kind,
    ]);
  }

  async find(id: string, manager?: EntityManager): Promise<KnownTenant | undefined> {
    const rows = await (manager ?? this.dataSource).query<
      { id: string; kind: TenantKind; path: string[]; status: 'active' | 'suspended'; max_devices: number }[]
    >(`SELECT id, kind, path, status, max_devices FROM tenants WHERE id = $1`, [id]);
    const r = rows[0];
    return r && { id: r.id, kind: r.kind, path: r.path, status: r.status, maxDevices: r.max_devices };
  }

  /** Locks the tenant's row for the rest of the transaction, so concurrent registrations count its devices one after another. */
  async lockForQuota(manager: EntityManager, id: string): Promise<void> {
    await manager.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [id]);
  }
}
