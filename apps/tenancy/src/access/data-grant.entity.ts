import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant lets another (its park, or a partner) read one kind of its data. */
@Entity({ name: 'data_grants' })
export class DataGrantEntity {
  @PrimaryColumn('uuid', { name: 'grantor_id' }) grantorId!: string;
  @PrimaryColumn('uuid', { name: 'grantee_id' }) granteeId!: string;
  @PrimaryColumn('text', { name: 'data_scope' }) dataScope!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
