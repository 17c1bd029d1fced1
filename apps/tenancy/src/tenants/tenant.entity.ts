import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { TenantKind } from '@iip/platform-auth';

export interface TenantContact {
  name?: string;
  email?: string;
  phone?: string;
}

export type TenantStatus = 'active' | 'suspended';

@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') kind!: TenantKind;
  @Column('uuid', { name: 'parent_id', nullable: true }) parentId!: string | null;
  /** Ancestor ids from the root down to this tenant itself. */
  @Column('uuid', { array: true }) path!: string[];
  @Column('text') name!: string;
  @Column('char', { name: 'credit_code', length: 18 }) creditCode!: string;
  @Column('jsonb') contact!: TenantContact;
  @Column('integer', { name: 'max_devices' }) maxDevices!: number;
  @Column('integer', { name: 'max_telemetry_pps' }) maxTelemetryPointsPerSecond!: number;
  @Column('text') status!: TenantStatus;
  @Column('text', { name: 'suspended_reason', nullable: true }) suspendedReason!: string | null;
  @Column('integer') version!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
