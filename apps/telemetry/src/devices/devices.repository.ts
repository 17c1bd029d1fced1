import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DeviceEventData, DeviceLifecycleState } from '@iip/contracts';
import { TenantKind } from '@iip/platform-auth';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';

export interface KnownDevice {
  id: string;
  tenantId: string;
  tenantPath: string[];
  tenantKind: TenantKind;
  modelId: string;
  modelVersion: number;
  status: DeviceLifecycleState;
  gatewayId: string | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", tenant_path AS "tenantPath", tenant_kind AS "tenantKind", model_id AS "modelId", model_version AS "modelVersion", status, gateway_id AS "gatewayId"`;

/** This service's copy of the registry's devices (owner and place in the tree, model, status, gateway), from its events. */
@Injectable()
export class DevicesRepository {
  constructor(@Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async apply(manager: EntityManager, d: DeviceEventData): Promise<void> {
    await manager.query(
      `INSERT INTO devices (tenant_id, id, tenant_path, model_id, model_version, status, gateway_id, version, tenant_kind, serial)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id, id) DO UPDATE SET tenant_path = EXCLUDED.tenant_path, tenant_kind = EXCLUDED.tenant_kind, model_id = EXCLUDED.model_id,
         model_version = EXCLUDED.model_version, status = EXCLUDED.status, gateway_id = EXCLUDED.gateway_id,
         serial = EXCLUDED.serial, version = EXCLUDED.version, updated_at = now()
       WHERE devices.version <= EXCLUDED.version`,
      [
        d.tenantId,
        d.id,
        d.tenantPath,
        d.model.id,
        d.model.version,
        d.status,
        d.gatewayId ?? null,
        d.version,
        d.tenantKind,
        d.serial || null,
      ],
    );
  }

  async find(id: string): Promise<KnownDevice | undefined> {
    const rows = await this.dataSource.query<KnownDevice[]>(`SELECT ${COLUMNS} FROM devices WHERE id = $1`, [id]);
    return rows[0];
  }

  /** The device of a tenant's subtree with this serial number (an edge bridge names devices so); undefined when none or several. */
  async findBySerial(tenantId: string, serial: string): Promise<KnownDevice | undefined> {
    const rows = await this.dataSource.query<KnownDevice[]>(
      `SELECT ${COLUMNS} FROM devices WHERE serial = $2 AND $1 = ANY(tenant_path) LIMIT 2`,
      [tenantId, serial],
    );
    return rows.length === 1 ? rows[0] : undefined;
  }

  async findMany(ids: string[]): Promise<KnownDevice[]> {
    return this.dataSource.query<KnownDevice[]>(`SELECT ${COLUMNS} FROM devices WHERE id = ANY($1::uuid[])`, [ids]);
  }
}
