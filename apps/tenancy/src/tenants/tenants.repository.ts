import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { written } from '@iip/platform-database';
import { TenantEntity } from './tenant.entity';

export const TENANCY_DATA_SOURCE = Symbol('TENANCY_DATA_SOURCE');

/** The only place that queries the tenants table. */
@Injectable()
export class TenantsRepository {
  constructor(@Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(TenantEntity);
  }

  findById(id: string, manager?: EntityManager): Promise<TenantEntity | null> {
    return this.repo(manager).findOneBy({ id });
  }

  /** Reads and locks the row for the rest of the transaction. */
  findByIdForUpdate(manager: EntityManager, id: string): Promise<TenantEntity | null> {
    return this.repo(manager).createQueryBuilder('t').setLock('pessimistic_write').where('t.id = :id', { id }).getOne();
  }

  findByCreditCode(creditCode: string, manager?: EntityManager): Promise<TenantEntity | null> {
    return this.repo(manager).findOneBy({ creditCode });
  }

  findPlatform(manager?: EntityManager): Promise<TenantEntity | null> {
    return this.repo(manager).findOneBy({ kind: 'platform' });
  }

  async insert(manager: EntityManager, tenant: TenantEntity): Promise<TenantEntity> {
    await this.repo(manager).insert(tenant);
    return written(await this.findById(tenant.id, manager), 'tenant');
  }

  async save(manager: EntityManager, tenant: TenantEntity): Promise<TenantEntity> {
    return this.repo(manager).save(tenant);
  }

  /** Tenants strictly below `ancestorId`, oldest first, keyset-paginated. */
  listDescendants(ancestorId: string, limit: number, after?: { createdAt: string; id: string }): Promise<TenantEntity[]> {
    const qb = this.repo()
      .createQueryBuilder('t')
      .where(':ancestor = ANY(t.path)', { ancestor: ancestorId })
      .andWhere('t.id <> :ancestor', { ancestor: ancestorId })
      .orderBy('t.created_at', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .limit(limit);
    if (after) qb.andWhere('(t.created_at, t.id) > (:createdAt::timestamptz, :id::uuid)', after);
    return qb.getMany();
  }

  /** Whether any tenant on the path (the tenant or an ancestor) is suspended. */
  async anySuspendedOnPath(path: string[]): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM tenants WHERE id = ANY($1::uuid[]) AND status = 'suspended' LIMIT 1`,
      [path],
    );
    return rows.length > 0;
  }
}
