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

  async bumpVersion(manager: EntityManager, key: string, version: number, template?: { kind: string; version: number }): Promise<void> {
    await manager.query(
      'UPDATE identifiers SET version = $2, updated_at = now(), template_kind = coalesce($3, template_kind), template_version = coalesce($4, template_version) WHERE key = $1',
      [key, version, template?.kind ?? null, template?.version ?? null],
    );
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

  /** Multi-row insert; rows whose key exists already are skipped. Returns the keys inserted. */
  async insertMany(
    manager: EntityManager,
    rows: { key: string; handle: string; prefix: string; tenantId: string; templateKind: string | null; templateVersion: number | null }[],
  ): Promise<Set<string>> {
    const inserted = new Set<string>();
    for (let i = 0; i < rows.length; i += 2000) {
      const chunk = rows.slice(i, i + 2000);
      const params: unknown[] = [];
      const values = chunk.map((r, j) => {
        params.push(r.key, r.handle, r.prefix, r.tenantId, r.templateKind, r.templateVersion);
        const b = j * 6;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::uuid, $${b + 5}, $${b + 6}::integer)`;
      });
      const result: { key: string }[] = await manager.query(
        `INSERT INTO identifiers (key, handle, prefix, tenant_id, template_kind, template_version) VALUES ${values.join(', ')} ON CONFLICT (key) DO NOTHING RETURNING key`,
        params,
      );
      result.forEach((r) => inserted.add(r.key));
    }
    return inserted;
  }

  /** Multi-row insert of values, in chunks that stay under PostgreSQL's parameter limit. */
  async insertValues(manager: EntityManager, rows: Omit<IdentifierValueEntity, 'updatedAt'>[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 4000) {
      const chunk = rows.slice(i, i + 4000);
      const params: unknown[] = [];
      const values = chunk.map((v, j) => {
        params.push(v.key, v.idx, v.type, v.format, JSON.stringify(v.value), v.ttl, v.access, v.grantees);
        const b = j * 8;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb, $${b + 6}, $${b + 7}, $${b + 8}::uuid[])`;
      });
      await manager.query(
        `INSERT INTO identifier_values (key, idx, type, format, value, ttl, access, grantees) VALUES ${values.join(', ')}`,
        params,
      );
    }
  }

  /** Identifiers under one prefix, in key order, keyset-paginated. */
  listByPrefix(prefix: string, limit: number, afterKey?: string): Promise<IdentifierEntity[]> {
    const qb = this.dataSource
      .getRepository(IdentifierEntity)
      .createQueryBuilder('i')
      .where('i.prefix = :prefix', { prefix })
      .orderBy('i.key', 'ASC')
      .limit(limit);
    if (afterKey !== undefined) qb.andWhere('i.key > :afterKey', { afterKey });
    return qb.getMany();
  }

  /** Identifiers with a string value of this type and content (e.g. a serial number), in key order. */
  reverseLookup(
    type: string,
    value: string,
    limit: number,
    afterKey?: string,
  ): Promise<{ key: string; handle: string; prefix: string; access: string; grantees: string[] }[]> {
    return this.dataSource.query(
      `SELECT i.key, i.handle, i.prefix, v.access, v.grantees
         FROM identifier_values v JOIN identifiers i ON i.key = v.key
        WHERE v.format = 'string' AND v.type = $1 AND md5(v.value #>> '{}') = md5($2) AND v.value #>> '{}' = $2
          AND ($3::text IS NULL OR i.key > $3)
        ORDER BY i.key
        LIMIT $4`,
      [type, value, afterKey ?? null, limit],
    );
  }

  async delete(manager: EntityManager, key: string): Promise<void> {
    await manager.query('DELETE FROM identifiers WHERE key = $1', [key]);
  }
}
