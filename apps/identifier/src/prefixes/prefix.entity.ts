import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { TenantKind, TenantRef } from '@iip/platform-auth';

@Entity({ name: 'prefixes' })
export class PrefixEntity {
  @PrimaryColumn('text') prefix!: string;
  @Column('text') kind!: 'node' | 'enterprise';
  @Column('text') allocation!: 'configured' | 'auto' | 'manual';
  /** The owning tenant and its place in the tree, copied from tenancy's events. */
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId!: string | null;
  @Column('text', { name: 'tenant_kind', nullable: true }) tenantKind!: TenantKind | null;
  @Column('uuid', { name: 'tenant_path', array: true, nullable: true }) tenantPath!: string[] | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ name: 'delegations' })
export class DelegationEntity {
  @PrimaryColumn('text') prefix!: string;
  @Column('text', { name: 'base_url' }) baseUrl!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** The tenant owning a prefix, as access rules take it; undefined while unowned (the node prefix before the operator is known). */
export function ownerRef(p: Pick<PrefixEntity, 'tenantId' | 'tenantKind' | 'tenantPath'>): TenantRef | undefined {
  return p.tenantId && p.tenantKind && p.tenantPath ? { id: p.tenantId, kind: p.tenantKind, path: p.tenantPath } : undefined;
}
