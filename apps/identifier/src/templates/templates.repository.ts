import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isUniqueViolation } from '@iip/platform-database';
import { IDENTIFIER_DATA_SOURCE } from '../prefixes/prefixes.repository';
import { TemplateEntity } from './template.entity';

/** Attempts at taking the next version when other writers keep taking it first. */
const INSERT_ATTEMPTS = 5;

interface TemplateRow {
  kind: string;
  version: number;
  schema: Record<string, unknown>;
  created_at: Date;
}

@Injectable()
export class TemplatesRepository {
  constructor(@Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(TemplateEntity);
  }

  /** A given version of a kind's template, or its latest when no version is given. */
  find(kind: string, version?: number): Promise<TemplateEntity | null> {
    return version === undefined
      ? this.repo.findOne({ where: { kind }, order: { version: 'DESC' } })
      : this.repo.findOneBy({ kind, version });
  }

  /**
   * Writes the kind's next version (1 for a new kind) in one statement. Two writers reading the
   * same max both aim at the same (kind, version) key; the loser's unique violation is retried
   * and then sees the winner's row. Runs outside any transaction so a retry is possible.
   */
  async insertNextVersion(kind: string, schema: Record<string, unknown>): Promise<TemplateEntity> {
    for (let attempt = 1; ; attempt++) {
      try {
        const rows: TemplateRow[] = await this.dataSource.query(
          `INSERT INTO templates (kind, version, schema)
           SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb FROM templates WHERE kind = $1
           RETURNING kind, version, schema, created_at`,
          [kind, JSON.stringify(schema)],
        );
        const [row] = rows;
        return this.repo.create({ kind: row.kind, version: row.version, schema: row.schema, createdAt: row.created_at });
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= INSERT_ATTEMPTS) throw err;
      }
    }
  }

  list(): Promise<TemplateEntity[]> {
    return this.repo.find({ order: { kind: 'ASC', version: 'DESC' } });
  }
}
