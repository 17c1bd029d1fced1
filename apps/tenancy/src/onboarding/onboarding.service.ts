import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { written } from '@iip/platform-database';
import { Principal, TenantRef } from '@iip/platform-auth';
import { isDomainError, flattenValidationErrors } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE, Page, pageOf, readCursor } from '@iip/platform-http';
import { TenancyError, TenancyErrorCode } from '../tenancy.errors';
import { CreateTenantDto } from '../tenants/dto/tenant.dto';
import { mayCreateUnder } from '../tenants/tenant-rules';
import { TENANCY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { TenantsService, tenantRef } from '../tenants/tenants.service';
import { BulkInputError, ParsedRow, parseCsv, parseNdjson } from './bulk-input';
import { OnboardingJobEntity, OnboardingJobRowEntity } from './onboarding-job.entity';
import { OnboardingRepository } from './onboarding.repository';

export interface JobView {
  id: string;
  parentId: string;
  format: 'ndjson' | 'csv';
  status: 'pending' | 'running' | 'completed';
  total: number;
  processed: number;
  created: number;
  existing: number;
  failed: number;
  createdAt: string;
  finishedAt: string | null;
}

export interface RowResultView {
  line: number;
  status: 'pending' | 'created' | 'existing' | 'failed';
  tenantId: string | null;
  creditCode: string | null;
  error: { code: string; message: string } | null;
}

export function jobView(j: OnboardingJobEntity): JobView {
  return {
    id: j.id,
    parentId: j.parentId,
    format: j.format,
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

/**
 * Bulk onboarding of subsidiaries or park members. A job and its rows are stored first; rows
 * are then applied one transaction each (tenant, event and row outcome together), so a
 * restart resumes where it stopped and a re-sent file is idempotent on the credit code.
 */
@Injectable()
export class OnboardingService {
  constructor(
    @Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly jobs: OnboardingRepository,
    private readonly tenants: TenantsService,
    private readonly tenantRows: TenantsRepository,
  ) {}

  async createJob(actor: Principal, parentId: string, format: 'ndjson' | 'csv', body: string): Promise<OnboardingJobEntity> {
    const parent = await this.tenants.getVisible(actor.tenant, parentId);
    if (!mayCreateUnder(actor.tenant, tenantRef(parent))) {
      throw new TenancyError(TenancyErrorCode.NOT_PERMITTED, `Tenant ${actor.tenant.id} may not onboard tenants under ${parentId}`);
    }
    let rows: ParsedRow[];
    try {
      rows = format === 'csv' ? parseCsv(body) : parseNdjson(body);
    } catch (err) {
      if (err instanceof BulkInputError) throw new TenancyError(TenancyErrorCode.BULK_INPUT_INVALID, err.message);
      throw err;
    }
    const job = Object.assign(new OnboardingJobEntity(), {
      id: randomUUID(),
      parentId,
      createdByTenant: actor.tenant.id,
      createdByClient: actor.clientId,
      format,
      status: 'pending' as const,
      total: rows.length,
      processed: 0,
      created: 0,
      existing: 0,
      failed: 0,
      finishedAt: null,
    });
    await this.dataSource.transaction((manager) => this.jobs.insertJob(manager, job, rows));
    return written(await this.jobs.findJob(job.id), 'onboarding job');
  }

  async getJob(actor: Principal, id: string): Promise<OnboardingJobEntity> {
    const job = await this.jobs.findJob(id);
    if (!job) throw new TenancyError(TenancyErrorCode.JOB_NOT_FOUND, `Onboarding job ${id} was not found`);
    const parent = await this.tenantRows.findById(job.parentId);
    if (!parent || !mayCreateUnder(actor.tenant, tenantRef(parent))) {
      throw new TenancyError(TenancyErrorCode.JOB_NOT_FOUND, `Onboarding job ${id} was not found`);
    }
    return job;
  }

  async results(actor: Principal, id: string, limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<Page<RowResultView>> {
    await this.getJob(actor, id);
    let afterLine: number | undefined;
    if (cursor) {
      afterLine = readCursor(cursor, ['int'])[0] as number;
    }
    const page = pageOf(await this.jobs.listRows(id, limit + 1, afterLine), limit, (r) => [r.line]);
    return {
      items: page.rows.map((r) => ({
        line: r.line,
        status: r.status,
        tenantId: r.tenantId,
        creditCode: typeof r.input?.creditCode === 'string' ? r.input.creditCode : null,
        error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? '' } : null,
      })),
      nextCursor: page.nextCursor,
    };
  }

  /** Applies the next pending row of a job; returns false when the job has none left. */
  async applyNextRow(jobId: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const row = await this.jobs.claimNextRow(manager, jobId);
      if (!row) return false;
      const job = written(await this.jobs.findJob(jobId, manager), 'onboarding job');
      const creator = await this.tenantRows.findById(job.createdByTenant, manager);
      const outcome = creator
        ? await this.applyRow(manager, tenantRef(creator), job.parentId, row)
        : { status: 'failed' as const, errorCode: 'NOT_PERMITTED', errorMessage: 'the creating tenant no longer exists' };
      await this.jobs.recordRowOutcome(manager, row, outcome);
      return true;
    });
  }

  private async applyRow(manager: EntityManager, actor: TenantRef, parentId: string, row: OnboardingJobRowEntity) {
    if (row.parseError || !row.input) {
      return { status: 'failed' as const, errorCode: 'MALFORMED_ROW', errorMessage: row.parseError ?? 'empty row' };
    }
    const dto = plainToInstance(CreateTenantDto, row.input);
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length > 0) {
      const fields = flattenValidationErrors(errors);
      return {
        status: 'failed' as const,
        errorCode: 'VALIDATION_FAILED',
        errorMessage: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
      };
    }
    if (dto.parentId !== undefined && dto.parentId !== parentId) {
      return {
        status: 'failed' as const,
        errorCode: 'VALIDATION_FAILED',
        errorMessage: 'parentId: rows of a job are onboarded under the job parent',
      };
    }
    const existing = await this.tenantRows.findByCreditCode(dto.creditCode, manager);
    if (existing) {
      // Under this parent the creator sees the tenant anyway; anywhere else (its tree or not) only "unavailable".
      if (existing.parentId === parentId) return { status: 'existing' as const, tenantId: existing.id };
      const unavailable = TenancyError.creditCodeUnavailable();
      return { status: 'failed' as const, errorCode: unavailable.code, errorMessage: unavailable.message };
    }
    try {
      const tenant = await this.tenants.onboardInTransaction(manager, actor, parentId, dto);
      return { status: 'created' as const, tenantId: tenant.id };
    } catch (err) {
      if (isDomainError(err)) return { status: 'failed' as const, errorCode: err.code, errorMessage: err.message };
      throw err;
    }
  }

  openJobIds(limit = 10): Promise<string[]> {
    return this.jobs.openJobIds(limit);
  }
}
