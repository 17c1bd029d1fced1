import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TENANCY_DATA_SOURCE } from '../tenants/tenants.repository';
import { ParsedRow } from './bulk-input';
import { OnboardingJobEntity, OnboardingJobRowEntity, RowStatus } from './onboarding-job.entity';

@Injectable()
export class OnboardingRepository {
  constructor(@Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insertJob(manager: EntityManager, job: OnboardingJobEntity, rows: ParsedRow[]): Promise<void> {
    await manager.getRepository(OnboardingJobEntity).insert(job);
    // Multi-row inserts in chunks keep a 10,000-row job to a handful of statements.
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      const params: unknown[] = [];
      const values = chunk.map((r, j) => {
        params.push(job.id, r.line, r.input === null ? null : JSON.stringify(r.input), r.parseError);
        const b = j * 4;
        return `($${b + 1}, $${b + 2}, $${b + 3}::jsonb, $${b + 4}, 'pending')`;
      });
      await manager.query(`INSERT INTO onboarding_job_rows (job_id, line, input, parse_error, status) VALUES ${values.join(', ')}`, params);
    }
  }

  findJob(id: string, manager?: EntityManager): Promise<OnboardingJobEntity | null> {
    return (manager ?? this.dataSource.manager).getRepository(OnboardingJobEntity).findOneBy({ id });
  }

  async openJobIds(limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM onboarding_jobs WHERE status <> 'completed' ORDER BY created_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /** Claims the next pending row of a job for this transaction; other workers skip it. */
  async claimNextRow(manager: EntityManager, jobId: string): Promise<OnboardingJobRowEntity | null> {
    return manager
      .getRepository(OnboardingJobRowEntity)
      .createQueryBuilder('r')
      .where('r.job_id = :jobId', { jobId })
      .andWhere(`r.status = 'pending'`)
      .orderBy('r.line', 'ASC')
      .limit(1)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getOne();
  }

  async recordRowOutcome(
    manager: EntityManager,
    row: OnboardingJobRowEntity,
    outcome: { status: Exclude<RowStatus, 'pending'>; tenantId?: string; errorCode?: string; errorMessage?: string },
  ): Promise<void> {
    await manager.query(
      `UPDATE onboarding_job_rows SET status = $3, tenant_id = $4, error_code = $5, error_message = $6 WHERE job_id = $1 AND line = $2`,
      [row.jobId, row.line, outcome.status, outcome.tenantId ?? null, outcome.errorCode ?? null, outcome.errorMessage ?? null],
    );
    const column = outcome.status; // created | existing | failed: each has a counter column
    await manager.query(
      `UPDATE onboarding_jobs
          SET processed = processed + 1, ${column} = ${column} + 1,
              status = CASE WHEN processed + 1 >= total THEN 'completed' ELSE 'running' END,
              finished_at = CASE WHEN processed + 1 >= total THEN now() ELSE NULL END
        WHERE id = $1`,
      [row.jobId],
    );
  }

  listRows(jobId: string, limit: number, afterLine?: number): Promise<OnboardingJobRowEntity[]> {
    const qb = this.dataSource
      .getRepository(OnboardingJobRowEntity)
      .createQueryBuilder('r')
      .where('r.job_id = :jobId', { jobId })
      .orderBy('r.line', 'ASC')
      .limit(limit);
    if (afterLine !== undefined) qb.andWhere('r.line > :afterLine', { afterLine });
    return qb.getMany();
  }
}
