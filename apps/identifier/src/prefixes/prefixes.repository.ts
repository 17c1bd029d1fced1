import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { written } from '@iip/platform-database';
import { PrefixEntity } from './prefix.entity';

export const IDENTIFIER_DATA_SOURCE = Symbol('IDENTIFIER_DATA_SOURCE');

@Injectable()
export class PrefixesRepository {
  constructor(@Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(PrefixEntity);
  }

  find(prefix: string, manager?: EntityManager): Promise<PrefixEntity | null> {
    return this.repo(manager).findOneBy({ prefix });
  }

  /** The most specific hosted prefix among the candidates (most specific first). */
  async findFirstHosted(candidates: string[]): Promise<PrefixEntity | undefined> {
    const rows = await this.repo().findBy({ prefix: In(candidates) });
    return candidates.map((c) => rows.find((r) => r.prefix === c)).find((r) => r !== undefined);
  }

  findAutoForTenant(tenantId: string, manager?: EntityManager): Promise<PrefixEntity | null> {
    return this.repo(manager).findOneBy({ tenantId, allocation: 'auto' });
  }

  listForTenant(tenantId: string): Promise<PrefixEntity[]> {
    return this.repo().find({ where: { tenantId }, order: { prefix: 'ASC' } });
  }

  async insert(manager: EntityManager, row: Omit<PrefixEntity, 'createdAt'>): Promise<PrefixEntity> {
    await this.repo(manager).insert(row);
    return written(await this.find(row.prefix, manager), 'prefix');
  }

  async nextEnterpriseNumber(manager: EntityManager, start: number): Promise<number> {
    const [{ n }]: { n: string }[] = await manager.query(`SELECT nextval('enterprise_prefix_seq') AS n`);
    return start + Number(n) - 1;
  }

  /** Keeps the owner's place in the tree current (a tenant moved or was suspended). */
  async updateOwner(manager: EntityManager, tenantId: string, kind: string, path: string[]): Promise<void> {
    await manager.query(`UPDATE prefixes SET tenant_kind = $2, tenant_path = $3 WHERE tenant_id = $1`, [tenantId, kind, path]);
  }
}
