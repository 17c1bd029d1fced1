import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ValueAccess = 'public' | 'tenant' | 'granted';

@Entity({ name: 'identifiers' })
export class IdentifierEntity {
  /** prefix/suffix with ASCII letters folded: how the Handle System compares handles. */
  @PrimaryColumn('text') key!: string;
  @Column('text') handle!: string;
  @Column('text') prefix!: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'template_kind', nullable: true }) templateKind!: string | null;
  @Column('integer', { name: 'template_version', nullable: true }) templateVersion!: number | null;
  @Column('integer') version!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** A Handle value: index, type, data {format, value}, ttl, timestamp — plus who may read it. */
@Entity({ name: 'identifier_values' })
export class IdentifierValueEntity {
  @PrimaryColumn('text') key!: string;
  @PrimaryColumn('integer') idx!: number;
  @Column('text') type!: string;
  @Column('text') format!: string;
  @Column('jsonb') value!: unknown;
  @Column('integer') ttl!: number;
  @Column('text') access!: ValueAccess;
  @Column('uuid', { array: true }) grantees!: string[];
  /** HS_SECKEY only: the secret sealed with the key-encryption secret, for native challenge–response (never read out). */
  @Column('text', { name: 'sealed_secret', nullable: true }) sealedSecret?: string | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
