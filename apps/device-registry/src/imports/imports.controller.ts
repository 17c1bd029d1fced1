import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import type { Request } from 'express';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE, Page, PageQuery } from '@iip/platform-http';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { DeviceScopes } from '../scopes';
import { IMPORT_MEDIA_TYPES, ImportInputError } from './import-input';
import { ImportJobView, ImportRowResultView, ImportsService } from './imports.service';
import { ImportsWorker } from './imports.worker';

const uuid = new ParseUUIDPipe({ version: undefined });

export class StartImportQuery {
  @ApiPropertyOptional({ description: 'The tenant the devices are for (one you manage); default: your own' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}

export class ImportResultsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['created', 'existing', 'failed'] })
  @IsOptional()
  @IsIn(['created', 'existing', 'failed'])
  status?: 'created' | 'existing' | 'failed';
}

@ApiTags('device imports')
@ApiBearerAuth()
@Controller('v1/device-imports')
export class ImportsController {
  constructor(
    private readonly imports: ImportsService,
    private readonly worker: ImportsWorker,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiBody({
    description:
      'NDJSON (application/x-ndjson, one POST /v1/devices body per line) or CSV (text/csv, header: name,manufacturer,serial,modelId,…)',
    schema: { type: 'string' },
  })
  @ApiOperation({ summary: 'Import up to 1,000,000 devices as a job; idempotent on (tenant, manufacturer, serial)' })
  async start(@CurrentPrincipal() actor: Principal, @Query() q: StartImportQuery, @Req() req: Request): Promise<ImportJobView> {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!IMPORT_MEDIA_TYPES.includes(mediaType)) {
      throw new RequestValidationError([{ field: 'Content-Type', message: `must be ${IMPORT_MEDIA_TYPES.join(' or ')}` }]);
    }
    try {
      const job = await this.imports.start(actor, q.tenantId, mediaType, req);
      this.worker.kick();
      return job;
    } catch (err) {
      if (!(err instanceof ImportInputError)) throw err;
      // The rest of the upload is read and dropped, so the client gets the answer rather than a reset.
      req.resume();
      throw new DeviceRegistryError(
        err.status === 413 ? DeviceRegistryErrorCode.IMPORT_TOO_LARGE : DeviceRegistryErrorCode.IMPORT_UNREADABLE,
        err.message,
      );
    }
  }

  @Get(':id')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: 'Progress of an import: total, processed, created, existing, failed' })
  get(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<ImportJobView> {
    return this.imports.get(actor, id);
  }

  @Get(':id/results')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: 'A result per row (status=failed for the bad ones), in row order' })
  results(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Query() q: ImportResultsQuery,
  ): Promise<Page<ImportRowResultView>> {
    return this.imports.results(actor, id, q.status, q.limit ?? DEFAULT_PAGE_SIZE, q.cursor);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireScopes(DeviceScopes.DevicesWrite)
  @ApiOperation({ summary: 'Stop an import; the rows applied so far stay' })
  cancel(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<ImportJobView> {
    return this.imports.cancel(actor, id);
  }
}
