import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { RenewalScopes } from '../scopes';
import { ExportTable, writeCsv, writeXlsx } from './exports.format';
import { ExportsService } from './exports.service';
import { TenantQuery } from './renewal.dto';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

@ApiTags('renewal')
@ApiBearerAuth()
@Controller('v1/renewal/exports')
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  @Get('projects.csv')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiProduces('text/csv')
  @ApiOperation({ summary: 'Renewal projects of a tenant and its subtree as CSV, streamed (a park: its members’ as summaries)' })
  async projectsCsv(@CurrentPrincipal() actor: Principal, @Query() q: TenantQuery, @Res() res: Response): Promise<void> {
    await send(res, await this.exports.projectsTable(actor, q.tenantId), 'renewal-projects', 'csv');
  }

  @Get('projects.xlsx')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiProduces(XLSX)
  @ApiOperation({ summary: 'Renewal projects of a tenant and its subtree as an XLSX workbook' })
  async projectsXlsx(@CurrentPrincipal() actor: Principal, @Query() q: TenantQuery, @Res() res: Response): Promise<void> {
    await send(res, await this.exports.projectsTable(actor, q.tenantId), 'renewal-projects', 'xlsx');
  }

  @Get('indicators.csv')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiProduces('text/csv')
  @ApiOperation({
    summary: "The plan's indicators of a tenant and of each tenant right below it (subsidiaries, members: aggregates only) as CSV",
  })
  async indicatorsCsv(@CurrentPrincipal() actor: Principal, @Query() q: TenantQuery, @Res() res: Response): Promise<void> {
    await send(res, await this.exports.indicatorsTable(actor, q.tenantId), 'renewal-indicators', 'csv');
  }

  @Get('indicators.xlsx')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiProduces(XLSX)
  @ApiOperation({ summary: "The plan's indicators of a tenant and of each tenant right below it as an XLSX workbook" })
  async indicatorsXlsx(@CurrentPrincipal() actor: Principal, @Query() q: TenantQuery, @Res() res: Response): Promise<void> {
    await send(res, await this.exports.indicatorsTable(actor, q.tenantId), 'renewal-indicators', 'xlsx');
  }
}

/** Streams the table; one that fails half-way cuts the connection, so half a file never looks like a whole one. */
async function send(res: Response, table: ExportTable, name: string, format: 'csv' | 'xlsx'): Promise<void> {
  res.setHeader('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : XLSX);
  res.setHeader('content-disposition', `attachment; filename="${name}.${format}"`);
  try {
    await (format === 'csv' ? writeCsv(table, res) : writeXlsx(table, res));
    if (!res.writableEnded) res.end();
  } catch {
    res.destroy();
  }
}
