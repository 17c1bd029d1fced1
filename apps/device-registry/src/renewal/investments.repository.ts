import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';

export interface InvestmentRow {
  tenantId: string;
  year: number;
  source: 'reported' | 'project';
  projectId: string | null;
  amountCny: string;
  updatedAt: Date;
}

const COLUMNS = `tenant_id AS "tenantId", year, source, project_id AS "projectId", amount_cny::text AS "amountCny", updated_at AS "updatedAt"`;

/** The only place that reads and writes equipment_investments (renewal projects write their own 'project' rows). */
@Injectable()
export class InvestmentsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async putReported(manager: EntityManager, tenantId: string, year: number, amountCny: string): Promise<InvestmentRow> {
    const [row] = await manager.query<InvestmentRow[]>(
      `INSERT INTO equipment_investments (tenant_id, year, source, project_id, amount_cny) VALUES ($1, $2, 'reported', NULL, $3::numeric)
       ON CONFLICT (tenant_id, year, source, coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid))
         DO UPDATE SET amount_cny = EXCLUDED.amount_cny, updated_at = now()
       RETURNING ${COLUMNS}`,
      [tenantId, year, amountCny],
    );
    return row;
  }

  /** A tenant's rows, by year. */
  async ofTenant(tenantId: string): Promise<InvestmentRow[]> {
    return this.dataSource.query<InvestmentRow[]>(
      `SELECT ${COLUMNS} FROM equipment_investments WHERE tenant_id = $1 ORDER BY year, source, project_id NULLS FIRST`,
      [tenantId],
    );
  }
}
