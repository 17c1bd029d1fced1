import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { written } from '@iip/platform-database';
import { TENANCY_DATA_SOURCE } from '../tenants/tenants.repository';
import { DataGrantEntity } from './data-grant.entity';

/** The only place that queries the data_grants table. */
@Injectable()
export class DataGrantsRepository {
  constructor(@Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(DataGrantEntity);
  }

  /** Whether the grantor granted the grantee that kind of data, or any kind when no scope is given. */
  exists(grantorId: string, granteeId: string, dataScope?: string): Promise<boolean> {
    return this.repo.existsBy(dataScope ? { grantorId, granteeId, dataScope } : { grantorId, granteeId });
  }

  async upsert(grantorId: string, granteeId: string, dataScope: string): Promise<DataGrantEntity> {
    await this.repo.upsert({ grantorId, granteeId, dataScope }, ['grantorId', 'granteeId', 'dataScope']);
    return written(await this.repo.findOneBy({ grantorId, granteeId, dataScope }), 'grant');
  }

  /** Returns whether there was such a grant. */
  async remove(grantorId: string, granteeId: string, dataScope: string): Promise<boolean> {
    const result = await this.repo.delete({ grantorId, granteeId, dataScope });
    return Boolean(result.affected);
  }

  listFrom(grantorId: string, limit: number): Promise<DataGrantEntity[]> {
    return this.repo.find({ where: { grantorId }, order: { createdAt: 'ASC' }, take: limit });
  }
}
