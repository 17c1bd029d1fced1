import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { copyRows } from '@iip/platform-database';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { ImportRow } from './import-input';

export interface ImportJobRow {
  tenantId: string;
  id: string;
  createdBy: string;
  mediaType: string;
  status: 'running' | 'completed' | 'cancelled';
  total: number;
  processed: number;
  created: number;
  existing: number;
  failed: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface StoredImportRow {
  rowNo: number;
  line: number;
  input: Record<string, unknown> | null;
  parseError: string | null;
  status: 'created' | 'existing' | 'failed' | null;
  deviceId: string | null;
  error: { code: string; message: string; fields?: unknown } | null;
}

export interface RowResult {
  rowNo: number;
  status: 'created' | 'existing' | 'failed';
  deviceId: string | null;
  error: StoredImportRow['error'];
}

const JOB_COLUMNS = `tenant_id AS "tenantId", id, created_by AS "createdBy", media_type AS "mediaType", status, total, processed, created, existing,
  failed, created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`;
const ROW_COLUMNS = `row_no AS "rowNo", line, input, parse_error AS "parseError", status, device_id AS "deviceId", error`;

/** The only place that queries device imports. */
@Injectable()
export class ImportsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insertJob(manager: EntityManager, job: Pick<ImportJobRow, 'tenantId' | 'id' | 'createdBy' | 'mediaType' | 'total'>): Promise<void> {
    await manager.query(
      `INSERT INTO device_import_jobs (tenant_id, id, created_by, media_type, status, total) VALUES ($1, $2, $3, $4, 'running', $5)`,
      [job.tenantId, job.id, job.createdBy, job.mediaType, job.total],
    );
  }

  /** The upload's rows, streamed in with COPY as they are read. */
  async appendRows(manager: EntityManager, tenantId: string, jobId: string, rows: ImportRow[], firstRowNo: number): Promise<void> {
    await copyRows(
      manager,
      'device_import_rows',
      ['tenant_id', 'job_id', 'row_no', 'line', 'input', 'parse_error'],
      rows.map((r, i) => [tenantId, jobId, firstRowNo + i, r.line, r.input === null ? null : { json: r.input }, r.parseError]),
    );
  }

  async setTotal(manager: EntityManager, jobId: string, total: number): Promise<void> {
    await manager.query(`UPDATE device_import_jobs SET total = $2 WHERE id = $1`, [jobId, total]);
  }

  async find(id: string, manager?: EntityManager): Promise<ImportJobRow | undefined> {
    const rows = await (manager ?? this.dataSource).query<ImportJobRow[]>(`SELECT ${JOB_COLUMNS} FROM device_import_jobs WHERE id = $1`, [
      id,
    ]);
    return rows[0];
  }

  runningJobIds(): Promise<{ id: string }[]> {
    return this.dataSource.query(`SELECT id FROM device_import_jobs WHERE status = 'running' ORDER BY created_at LIMIT 100`);
  }

  /** The job, locked for this chunk; undefined when another worker holds it or it is no longer running. */
  async claim(manager: EntityManager, id: string): Promise<ImportJobRow | undefined> {
    const rows = await manager.query<ImportJobRow[]>(
      `SELECT ${JOB_COLUMNS} FROM device_import_jobs WHERE id = $1 AND status = 'running' FOR UPDATE SKIP LOCKED`,
      [id],
    );
    return rows[0];
  }

  nextRows(manager: EntityManager, job: ImportJobRow, limit: number): Promise<StoredImportRow[]> {
    return manager.query<StoredImportRow[]>(
      `SELECT ${ROW_COLUMNS} FROM device_import_rows WHERE tenant_id = $1 AND job_id = $2 AND row_no > $3 ORDER BY row_no LIMIT $4`,
      [job.tenantId, job.id, job.processed, limit],
    );
  }

  async saveResults(manager: EntityManager, job: ImportJobRow, results: RowResult[]): Promise<void> {
    await manager.query(
      `UPDATE device_import_rows r SET status = x.status, device_id = x.device_id, error = x.error
         FROM unnest($3::int[], $4::text[], $5::uuid[], $6::jsonb[]) AS x(row_no, status, device_id, error)
        WHERE r.tenant_id = $1 AND r.job_id = $2 AND r.row_no = x.row_no`,
      [
        job.tenantId,
        job.id,
        results.map((r) => r.rowNo),
        results.map((r) => r.status),
        results.map((r) => r.deviceId),
        results.map((r) => (r.error ? JSON.stringify(r.error) : null)),
      ],
    );
  }

  async advance(
    manager: EntityManager,
    job: ImportJobRow,
    counts: { processed: number; created: number; existing: number; failed: number },
  ): Promise<void> {
    await manager.query(
      `UPDATE device_import_jobs SET processed = processed + $2, created = created + $3, existing = existing + $4, failed = failed + $5,
         updated_at = now(),
         status = CASE WHEN processed + $2 >= total THEN 'completed' ELSE status END,
         finished_at = CASE WHEN processed + $2 >= total THEN now() ELSE finished_at END
       WHERE id = $1`,
      [job.id, counts.processed, counts.created, counts.existing, counts.failed],
    );
  }

  async cancel(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      `UPDATE device_import_jobs SET status = 'cancelled', updated_at = now(), finished_at = now() WHERE id = $1 AND status = 'running'`,
      [id],
    );
  }

  results(job: ImportJobRow, status: string | undefined, afterRow: number, limit: number): Promise<StoredImportRow[]> {
    return this.dataSource.query<StoredImportRow[]>(
      `SELECT ${ROW_COLUMNS} FROM device_import_rows WHERE tenant_id = $1 AND job_id = $2 AND row_no > $3 AND ($4::text IS NULL OR status = $4)
        ORDER BY row_no LIMIT $5`,
      [job.tenantId, job.id, afterRow, status ?? null, limit],
    );
  }
}
