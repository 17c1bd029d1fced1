import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { JsonObject } from './twin-document';

export interface TwinRow {
  tenantId: string;
  deviceId: string;
  desired: JsonObject;
  desiredMeta: JsonObject;
  desiredVersion: number;
  reported: JsonObject;
  reportedMeta: JsonObject;
  reportedVersion: number;
  updatedAt: Date;
}

const COLUMNS = `tenant_id AS "tenantId", device_id AS "deviceId", desired, desired_meta AS "desiredMeta", desired_version AS "desiredVersion",
  reported, reported_meta AS "reportedMeta", reported_version AS "reportedVersion", updated_at AS "updatedAt"`;

/** The only place that queries twins. */
@Injectable()
export class TwinsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async find(tenantId: string, deviceId: string): Promise<TwinRow | undefined> {
    const rows = await this.dataSource.query<TwinRow[]>(`SELECT ${COLUMNS} FROM twins WHERE tenant_id = $1 AND device_id = $2`, [
      tenantId,
      deviceId,
    ]);
    return rows[0];
  }

  /** The twin, created empty the first time, locked for the rest of the transaction. */
  async lock(manager: EntityManager, tenantId: string, deviceId: string): Promise<TwinRow> {
    await manager.query(`INSERT INTO twins (tenant_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [tenantId, deviceId]);
    const rows = await manager.query<TwinRow[]>(`SELECT ${COLUMNS} FROM twins WHERE tenant_id = $1 AND device_id = $2 FOR UPDATE`, [
      tenantId,
      deviceId,
    ]);
    return rows[0];
  }

  async save(
    manager: EntityManager,
    side: 'desired' | 'reported',
    row: { tenantId: string; deviceId: string; document: JsonObject; metadata: JsonObject; version: number },
  ) {
    await manager.query(
      `UPDATE twins SET ${side} = $3::jsonb, ${side}_meta = $4::jsonb, ${side}_version = $5, updated_at = now() WHERE tenant_id = $1 AND device_id = $2`,
      [row.tenantId, row.deviceId, JSON.stringify(row.document), JSON.stringify(row.metadata), row.version],
    );
  }
}
