import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An identifier kind's name: what a template is registered under (device, product, batch, ...). */
export const TEMPLATE_KIND_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * One version of an identifier kind's template: a JSON Schema (draft 2020-12) over the
 * identifier's values. Immutable once written; a change is a new version.
 */
@Entity({ name: 'templates' })
export class TemplateEntity {
  @PrimaryColumn('text') kind!: string;
  @PrimaryColumn('integer') version!: number;
  @Column('jsonb') schema!: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
