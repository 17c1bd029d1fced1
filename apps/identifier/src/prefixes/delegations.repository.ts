import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { DelegationEntity } from './prefix.entity';
import { IDENTIFIER_DATA_SOURCE } from './prefixes.repository';

@Injectable()
export class DelegationsRepository {
  constructor(@Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(DelegationEntity);
  }

  /** The most specific delegation among the candidates (most specific first). */
  async findFirst(candidates: string[]): Promise<DelegationEntity | undefined> {
    const rows = await this.repo.findBy({ prefix: In(candidates) });
    return candidates.map((c) => rows.find((r) => r.prefix === c)).find((r) => r !== undefined);
  }

  async upsert(prefix: string, baseUrl: string): Promise<DelegationEntity> {
    await this.repo.upsert({ prefix, baseUrl }, ['prefix']);
    return (await this.repo.findOneBy({ prefix })) as DelegationEntity;
  }

  async remove(prefix: string): Promise<boolean> {
    return ((await this.repo.delete({ prefix })).affected ?? 0) > 0;
  }

  list(): Promise<DelegationEntity[]> {
    return this.repo.find({ order: { prefix: 'ASC' } });
  }
}
