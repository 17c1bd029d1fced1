import { MigrationInterface, QueryRunner } from 'typeorm';
import { bulkOutboxDownSql, bulkOutboxSql } from '@iip/platform-kafka';

/** Bulk outbox rows (platform-kafka bulkOutboxSql): a bulk write's events in one row, published one message each. */
export class BulkOutboxRows1765094400000 implements MigrationInterface {
  name = 'BulkOutboxRows1765094400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of bulkOutboxSql('tenancy')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of bulkOutboxDownSql('tenancy')) await q.query(sql);
  }
}
