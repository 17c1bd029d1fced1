import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import { Principal, canManage } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { Page, encodeCursor, readCursor } from '@iip/platform-http';
import { DeviceRegistryError, DeviceRegistryErrorCode, isDeviceRegistryError } from '../device-registry.errors';
import { CreateDeviceInput, createDeviceSchema } from '../devices/dto/device.dto';
import { DevicesRepository, NewDeviceRow } from '../devices/devices.repository';
import { DevicesService } from '../devices/devices.service';
import { DeviceRegistryOutbox } from '../messaging/device-registry-outbox';
import { ModelsService, UsableModel } from '../models/models.service';
import { targetTenant } from '../tenants/tenant-scope';
import { DEVICE_REGISTRY_DATA_SOURCE, KnownTenant, TenantsRepository } from '../tenants/tenants.repository';
import { ImportRow, readImport } from './import-input';
import { ImportJobRow, ImportsRepository, RowResult, StoredImportRow } from './imports.repository';

export const IMPORT_SETTINGS = Symbol('IMPORT_SETTINGS');
export interface ImportSettings {
  maxRows: number;
  maxBytes: number;
  /** Rows applied per transaction: a crash loses at most one chunk's work, which is then done again. */
  chunkRows: number;
}

export interface ImportJobView {
  id: string;
  tenantId: string;
  status: ImportJobRow['status'];
  total: number;
  processed: number;
  created: number;
  existing: number;
  failed: number;
  createdAt: string;
  finishedAt: string | null;
}

export interface ImportRowResultView {
  row: number;
  line: number;
  status: StoredImportRow['status'];
  deviceId: string | null;
  error: StoredImportRow['error'];
}

const UPLOAD_BATCH = 5_000;

/**
 * Bulk device imports as jobs: the upload is stored row by row (streamed, never held whole),
 * then a worker applies it in chunks, each chunk one transaction with its results, its events
 * and the job's progress, so a restart resumes after the last chunk committed. Idempotent on
 * (tenant, manufacturer, serial): a device that exists is reported `existing` and left alone.
 */
@Injectable()
export class ImportsService {
  constructor(
    private readonly imports: ImportsRepository,
    private readonly tenants: TenantsRepository,
    private readonly devicesRepo: DevicesRepository,
    private readonly devices: DevicesService,
    private readonly models: ModelsService,
    private readonly outbox: DeviceRegistryOutbox,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(IMPORT_SETTINGS) private readonly settings: ImportSettings,
  ) {}

  async start(actor: Principal, tenantId: string | undefined, mediaType: string, body: Readable): Promise<ImportJobView> {
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      const owner = await targetTenant(this.tenants, actor, tenantId, manager);
      await this.imports.insertJob(manager, { tenantId: owner.id, id, createdBy: actor.clientId, mediaType, total: 0 });
      let batch: ImportRow[] = [];
      let total = 0;
      for await (const row of readImport(body, mediaType, this.settings)) {
        batch.push(row);
        if (batch.length === UPLOAD_BATCH) {
          await this.imports.appendRows(manager, owner.id, id, batch, total + 1);
          total += batch.length;
          batch = [];
        }
      }
      if (batch.length) await this.imports.appendRows(manager, owner.id, id, batch, total + 1);
      total += batch.length;
      if (total === 0) throw new RequestValidationError([{ field: '(body)', message: 'the upload holds no rows' }]);
      await this.imports.setTotal(manager, id, total);
    });
    return this.get(actor, id);
  }

  async get(actor: Principal, id: string): Promise<ImportJobView> {
    return viewOf(await this.managed(actor, id));
  }

  async results(
    actor: Principal,
    id: string,
    status: string | undefined,
    limit: number,
    cursor?: string,
  ): Promise<Page<ImportRowResultView>> {
    // The cursor is checked first: a forged one is a 400 whether or not the job exists.
    const after = cursor ? (readCursor(cursor, ['int'])[0] as number) : 0;
    const job = await this.managed(actor, id);
    const rows = await this.imports.results(job, status, after, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({ row: r.rowNo, line: r.line, status: r.status, deviceId: r.deviceId, error: r.error })),
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1].rowNo]) : null,
    };
  }

  async cancel(actor: Principal, id: string): Promise<ImportJobView> {
    await this.managed(actor, id);
    // Waits for a chunk in progress; the rows already applied stay.
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT 1 FROM device_import_jobs WHERE id = $1 FOR UPDATE', [id]);
      await this.imports.cancel(manager, id);
    });
    return this.get(actor, id);
  }

  runningJobIds(): Promise<string[]> {
    return this.imports.runningJobIds().then((rows) => rows.map((r) => r.id));
  }

  /** Applies the job's next chunk; false when there is nothing (more) to do now. */
  async applyNextChunk(jobId: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const job = await this.imports.claim(manager, jobId);
      if (!job) return false;
      const rows = await this.imports.nextRows(manager, job, this.settings.chunkRows);
      if (rows.length === 0) {
        await this.imports.advance(manager, job, { processed: 0, created: 0, existing: 0, failed: 0 });
        return false;
      }
      const owner = await this.tenants.find(job.tenantId, manager);
      const results = owner
        ? await this.applyRows(manager, owner, rows)
        : rows.map((r) => failed(r, 'TENANT_NOT_FOUND', `Tenant ${job.tenantId} is gone`));
      await this.imports.saveResults(manager, job, results);
      await this.imports.advance(manager, job, {
        processed: rows.length,
        created: results.filter((r) => r.status === 'created').length,
        existing: results.filter((r) => r.status === 'existing').length,
        failed: results.filter((r) => r.status === 'failed').length,
      });
      return job.processed + rows.length < job.total;
    });
  }

  private async applyRows(manager: EntityManager, owner: KnownTenant, rows: StoredImportRow[]): Promise<RowResult[]> {
    const results = new Map<number, RowResult>();
    const models = new Map<string, Promise<UsableModel>>();
    const candidates: { row: StoredImportRow; input: CreateDeviceInput; model: UsableModel }[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      if (row.parseError || !row.input) {
        results.set(row.rowNo, failed(row, 'ROW_UNREADABLE', row.parseError ?? 'the row is empty'));
        continue;
      }
      try {
        const input = createDeviceSchema.check(row.input);
        if (input.tenantId && input.tenantId !== owner.id) {
          throw new DeviceRegistryError(DeviceRegistryErrorCode.NOT_PERMITTED, 'tenantId of a row must be the job tenant (or absent)');
        }
        const ref = `${input.model.id}@${input.model.version ?? 'latest'}`;
        let model = models.get(ref);
        if (!model) models.set(ref, (model = this.models.usable(owner, input.model.id, input.model.version, manager)));
        const usable = await model;
        if (input.gatewayId) await this.devices.checkGateway(manager, owner.id, input.gatewayId, '');
        const key = `${input.manufacturer}\u0000${input.serial}`;
        if (seen.has(key))
          throw new DeviceRegistryError(
            DeviceRegistryErrorCode.SERIAL_TAKEN,
            `serial ${input.serial} of ${input.manufacturer} appears twice in this import`,
          );
        seen.add(key);
        candidates.push({ row, input, model: usable });
      } catch (err) {
        if (err instanceof RequestValidationError) {
          results.set(row.rowNo, {
            rowNo: row.rowNo,
            status: 'failed',
            deviceId: null,
            error: { code: 'VALIDATION_FAILED', message: 'The row has invalid fields', fields: err.fieldErrors },
          });
        } else if (isDeviceRegistryError(err)) {
          results.set(row.rowNo, failed(row, err.code, err.message));
        } else throw err;
      }
    }
    // Rows naming a device that exists already: reported, not changed (an import run twice creates nothing).
    const existing = await this.devicesRepo.idsBySerial(
      manager,
      owner.id,
      candidates.map((c) => c.input),
    );
    const fresh = candidates.filter((c) => {
      const id = existing.get(`${c.input.manufacturer}\u0000${c.input.serial}`);
      if (id) results.set(c.row.rowNo, { rowNo: c.row.rowNo, status: 'existing', deviceId: id, error: null });
      return !id;
    });
    // The quota, for the whole chunk at once (the tenant's row is locked for the rest of the transaction).
    await this.tenants.lockForQuota(manager, owner.id);
    const room = Math.max(0, owner.maxDevices - (await this.devicesRepo.countActive(manager, owner.id)));
    for (const c of fresh.slice(room)) {
      results.set(
        c.row.rowNo,
        failed(c.row, DeviceRegistryErrorCode.DEVICE_QUOTA_EXCEEDED, `The tenant's quota (maxDevices ${owner.maxDevices}) is reached`),
      );
    }
    const devices: NewDeviceRow[] = fresh.slice(0, room).map((c) => {
      const id = randomUUID();
      return {
        tenantId: owner.id,
        id,
        tenantPath: owner.path,
        tenantKind: owner.kind,
        name: c.input.name,
        manufacturer: c.input.manufacturer,
        serial: c.input.serial,
        modelTenantId: c.model.model.tenantId,
        modelId: c.model.model.id,
        modelVersion: c.model.version.version,
        status: c.input.status ?? 'provisioned',
        handleSuffix: `dev.${id}`,
        tags: c.input.tags ?? {},
        gatewayId: c.input.gatewayId ?? null,
        profile: c.input.profile ?? {},
      };
    });
    const inserted = await this.devicesRepo.insertMany(manager, devices);
    const names = new Map(fresh.map((c) => [c.model.model.id, c.model.model.name]));
    fresh.slice(0, room).forEach((c, i) => {
      const d = devices[i];
      results.set(
        c.row.rowNo,
        inserted.has(d.id)
          ? { rowNo: c.row.rowNo, status: 'created', deviceId: d.id, error: null }
          : failed(c.row, DeviceRegistryErrorCode.SERIAL_TAKEN, 'registered meanwhile by another request'),
      );
    });
    const registered = devices.filter((d) => inserted.has(d.id));
    // Identifier registers these in batches as it reads them (one bulk outbox row for the chunk).
    if (registered.length)
      await this.outbox.devicesRegistered(
        manager,
        registered.map((d) => this.devices.eventData({ ...d, modelName: names.get(d.modelId) ?? '', handle: null, version: 1 })),
      );
    return rows.map((r) => results.get(r.rowNo) ?? failed(r, 'ROW_UNREADABLE', 'not applied'));
  }

  private async managed(actor: Principal, id: string): Promise<ImportJobRow> {
    const job = await this.imports.find(id);
    const tenant = job && (await this.tenants.find(job.tenantId));
    if (!job || !tenant || !canManage(actor.tenant, tenant)) {
      throw new DeviceRegistryError(DeviceRegistryErrorCode.IMPORT_NOT_FOUND, `Device import ${id} was not found`);
    }
    return job;
  }
}

function failed(row: Pick<StoredImportRow, 'rowNo'>, code: string, message: string): RowResult {
  return { rowNo: row.rowNo, status: 'failed', deviceId: null, error: { code, message } };
}

function viewOf(j: ImportJobRow): ImportJobView {
  return {
    id: j.id,
    tenantId: j.tenantId,
    status: j.status,
    total: j.total,
    processed: j.processed,
    created: j.created,
    existing: j.existing,
    failed: j.failed,
    createdAt: j.createdAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString() ?? null,
  };
}
