import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type JobStatus = 'pending' | 'running' | 'completed';
export type RowStatus = 'pending' | 'created' | 'existing' | 'failed';

@Entity({ name: 'onboarding_jobs' })
export class OnboardingJobEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'parent_id' }) parentId!: string;
  @Column('uuid', { name: 'created_by_tenant' }) createdByTenant!: string;
  @Column('text', { name: 'created_by_client' }) createdByClient!: string;
  @Column('text') format!: 'ndjson' | 'csv';
  @Column('text') status!: JobStatus;
  @Column('integer') total!: number;
  @Column('integer') processed!: number;
  @Column('integer') created!: number;
  @Column('integer') existing!: number;
  @Column('integer') failed!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}

@Entity({ name: 'onboarding_job_rows' })
export class OnboardingJobRowEntity {
  @PrimaryColumn('uuid', { name: 'job_id' }) jobId!: string;
  @PrimaryColumn('integer') line!: number;
  @Column('jsonb', { nullable: true }) input!: Record<string, unknown> | null;
  @Column('text', { name: 'parse_error', nullable: true }) parseError!: string | null;
  @Column('text') status!: RowStatus;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId!: string | null;
  @Column('text', { name: 'error_code', nullable: true }) errorCode!: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage!: string | null;
}
