import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'oauth_clients' })
export class OAuthClientEntity {
  @PrimaryColumn('text', { name: 'client_id' }) clientId!: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId!: string;
  @Column('text') name!: string;
  /** scrypt hash of the secret; the secret itself is shown once and never stored. */
  @Column('text', { name: 'secret_hash' }) secretHash!: string;
  @Column('text', { array: true }) scopes!: string[];
  @Column('text') status!: 'active' | 'revoked';
  @Column('text', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
}
