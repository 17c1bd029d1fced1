import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { written } from '@iip/platform-database';
import { TENANCY_DATA_SOURCE } from '../tenants/tenants.repository';
import { OAuthClientEntity } from './oauth-client.entity';

@Injectable()
export class ClientsRepository {
  constructor(@Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(OAuthClientEntity);
  }

  findById(clientId: string): Promise<OAuthClientEntity | null> {
    return this.repo().findOneBy({ clientId });
  }

  async insert(client: OAuthClientEntity, manager?: EntityManager): Promise<OAuthClientEntity> {
    await this.repo(manager).insert(client);
    return written(await this.repo(manager).findOneBy({ clientId: client.clientId }), 'client');
  }

  /** Runs `work` in a transaction holding a named advisory lock. */
  withLock<T>(name: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [name]);
      return work(manager);
    });
  }

  listForTenant(
    tenantId: string,
    limit: number,
    after?: { createdAt: string; clientId: string },
    manager?: EntityManager,
  ): Promise<OAuthClientEntity[]> {
    const qb = this.repo(manager)
      .createQueryBuilder('c')
      .where('c.tenant_id = :tenantId', { tenantId })
      .orderBy('c.created_at', 'ASC')
      .addOrderBy('c.client_id', 'ASC')
      .limit(limit);
    if (after) qb.andWhere('(c.created_at, c.client_id) > (:createdAt::timestamptz, :clientId)', after);
    return qb.getMany();
  }

  async revoke(tenantId: string, clientId: string, manager?: EntityManager): Promise<boolean> {
    const result = await this.repo(manager).update(
      { clientId, tenantId, status: 'active' },
      { status: 'revoked', revokedAt: () => 'now()' },
    );
    return (result.affected ?? 0) > 0;
  }

  async setSecretHash(clientId: string, secretHash: string, scopes: string[]): Promise<void> {
    await this.repo().update({ clientId }, { secretHash, scopes, status: 'active', revokedAt: null });
  }

  async touch(clientId: string): Promise<void> {
    await this.repo().update({ clientId }, { lastUsedAt: () => 'now()' });
  }
}
