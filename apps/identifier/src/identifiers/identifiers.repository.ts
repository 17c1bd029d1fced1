import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { IDENTIFIER_DATA_SOURCE } from '../prefixes/prefixes.repository';
import { IdentifierEntity, IdentifierValueEntity } from './identifier.entity';

export interface StoredRecord {
  identifier: IdentifierEntity;
  values: IdentifierValueEntity[];
}

@Injectable()
export class IdentifiersRepository {
  constructor(@Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async findRecord(key: string, manager?: EntityManager): Promise<StoredRecord | undefined> {
    const m = manager ?? this.dataSource.manager;
    const identifier = await m.getRepository(IdentifierEntity).findOneBy({ key });
    if (!identifier) return undefined;
    const values = await m.getRepository(IdentifierValueEntity).find({ where: { key }, order: { idx: 'ASC' } });
    return { identifier, values };
  }

  findForUpdate(manager: EntityManager, key: string): Promise<IdentifierEntity | null> {
    return manager
      .getRepository(IdentifierEntity)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where('i.key = :key', { key })
      .getOne();
  }

  async insert(manager: EntityManager, identifier: Omit<IdentifierEntity, 'createdAt' | 'updatedAt'>): Promise<void> {
    await manager.getRepository(IdentifierEntity).insert(identifier);
  }

  async bumpVersion(manager: EntityManager, key: string, version: number): Promise<void> {
    await manager.query('UPDATE identifiers SET version = $2, updated_at = now() WHERE key = $1', [key, version]);
  }

  /** Replaces every value of an identifier in one multi-row statement. */
  async replaceValues(manager: EntityManager, key: string, values: Omit<IdentifierValueEntity, 'key' | 'updatedAt'>[]): Promise<void> {
    await manager.query('DELETE FROM identifier_values WHERE key = $1', [key]);
    if (values.length === 0) return;
    const params: unknown[] = [];
    const rows = values.map((v, i) => {
      params.push(key, v.idx, v.type, v.format, JSON.stringify(v.value), v.ttl, v.access, v.grantees);
      const b = i * 8;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb, $${b + 6}, $${b + 7}, $${b + 8}::uuid[])`;
    });
    await manager.query(
      `INSERT INTO identifier_values (key, idx, type, format, value, ttl, access, grantees) VALUES ${rows.join(', ')}`,
      params,
    );
  }

  async delete(manager: EntityManager, key: string): Promise<void> {
    await manager.query('DELETE FROM identifiers WHERE key = $1', [key]);
  }
}
