import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TenantEventData } from '@iip/contracts';
import { TenantKind } from '@iip/platform-auth';

export const TELEMETRY_DATA_SOURCE = Symbol('TELEMETRY_DATA_SOURCE');

export interface KnownTenant {
  id: string;
  kind: TenantKind;
  path: string[];
  status: 'active' | 'suspended';
  maxPointsPerSecond: number;
}

/** This service's copy of tenancy's tenants: place in the tree, status, telemetry quota. */
@Injectable()
export class TenantsRepository {
  constructor(@Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Applies a tenant's state unless a newer one is known already (events may be replayed). */
  async apply(manager: EntityManager, t: TenantEventData): Promise<void> {
    await manager.query(
      `INSERT INTO tenants (id, kind, path, status, max_points_per_second, version) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, path = EXCLUDED.path, status = EXCLUDED.status,
         max_points_per_second = EXCLUDED.max_points_per_second, version = EXCLUDED.version, updated_at = now()
       WHERE tenants.version <= EXCLUDED.version`,
      [t.id, t.kind, t.path, t.status, t.quotas.maxTelemetryPointsPerSecond, t.version],
    );
    await manager.query(`UPDATE devices SET tenant_path = $2, tenant_kind = $3 WHERE tenant_id = $1 AND tenant_path <> $2`, [
      t.id,
      t.path,
      t.kind,
    ]);
  }

  /** These tenants (a tenant and its ancestors, for quotas), by id. */
  async findMany(ids: string[]): Promise<Map<string, KnownTenant>> {
    const rows = await this.dataSource.query<
      { id: string; kind: TenantKind; path: string[]; status: 'active' | 'suspended'; max_points_per_second: number }[]
    >(`SELECT id, kind, path, status, max_points_per_second FROM tenants WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(
      rows.map((r) => [r.id, { id: r.id, kind: r.kind, path: r.path, status: r.status, maxPointsPerSecond: r.max_points_per_second }]),
    );
  }
}
