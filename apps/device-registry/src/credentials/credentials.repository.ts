import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';

export interface CredentialRow {
  tenantId: string;
  id: string;
  deviceId: string;
  kind: 'secret' | 'x509';
  secretHash: Buffer | null;
  fingerprint: string | null;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

const COLUMNS = `tenant_id AS "tenantId", id, device_id AS "deviceId", kind, secret_hash AS "secretHash", fingerprint, label,
  created_at AS "createdAt", revoked_at AS "revokedAt"`;

/** The only place that queries device credentials. */
@Injectable()
export class CredentialsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, row: Omit<CredentialRow, 'createdAt' | 'revokedAt'>): Promise<void> {
    await manager.query(
      `INSERT INTO device_credentials (tenant_id, id, device_id, kind, secret_hash, fingerprint, label) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [row.tenantId, row.id, row.deviceId, row.kind, row.secretHash, row.fingerprint, row.label],
    );
  }

  /** The device's credentials, newest first; `activeOnly` leaves the revoked out. */
  list(deviceId: string, activeOnly: boolean, manager?: EntityManager): Promise<CredentialRow[]> {
    return (manager ?? this.dataSource).query<CredentialRow[]>(
      `SELECT ${COLUMNS} FROM device_credentials WHERE device_id = $1 ${activeOnly ? 'AND revoked_at IS NULL' : ''} ORDER BY created_at DESC, id`,
      [deviceId],
    );
  }

  async revoke(manager: EntityManager, deviceId: string, id: string): Promise<CredentialRow | undefined> {
    const rows = await manager.query<CredentialRow[]>(
      // Through a CTE: the driver answers an UPDATE … RETURNING with [rows, count], a SELECT with rows.
      `WITH revoked AS (UPDATE device_credentials SET revoked_at = now() WHERE device_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING *)
       SELECT ${COLUMNS} FROM revoked`,
      [deviceId, id],
    );
    return rows[0];
  }

  /** The device an active certificate fingerprint belongs to. */
  async deviceOfFingerprint(fingerprint: string): Promise<string | undefined> {
    const rows = await this.dataSource.query<{ deviceId: string }[]>(
      `SELECT device_id AS "deviceId" FROM device_credentials WHERE fingerprint = $1 AND kind = 'x509' AND revoked_at IS NULL LIMIT 1`,
      [fingerprint],
    );
    return rows[0]?.deviceId;
  }
}
