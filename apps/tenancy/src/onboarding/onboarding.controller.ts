import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { Page, PageQuery } from '@iip/platform-http';
import { Scopes } from '../oauth/scopes';
import { TenancyError, TenancyErrorCode } from '../tenancy.errors';
import { JobView, OnboardingService, RowResultView, jobView } from './onboarding.service';
import { OnboardingWorker } from './onboarding.worker';

export const BULK_MEDIA_TYPES = ['application/x-ndjson', 'application/ndjson', 'text/csv'];

@ApiTags('onboarding')
@ApiBearerAuth()
@Controller()
export class OnboardingController {
  constructor(
    private readonly onboarding: OnboardingService,
    private readonly worker: OnboardingWorker,
  ) {}

  @Post('v1/tenants/:tenantId/onboarding-jobs')
  @HttpCode(202)
  @RequireScopes(Scopes.TenantsWrite)
  @ApiConsumes(...BULK_MEDIA_TYPES)
  @ApiBody({
    description:
      'NDJSON: one tenant object per line. CSV: header kind,name,creditCode,contactName,contactEmail,contactPhone,maxDevices,maxTelemetryPointsPerSecond',
    schema: { type: 'string' },
  })
  @ApiOperation({ summary: 'Onboard many subsidiaries or park members at once; poll the job for progress' })
  async create(
    @CurrentPrincipal() p: Principal,
    @Param('tenantId', ParseUUIDPipe) tenantId: string,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobView> {
    const format = contentType?.startsWith('text/csv') ? 'csv' : contentType?.includes('ndjson') ? 'ndjson' : undefined;
    if (!format || typeof body !== 'string') {
      throw new TenancyError(TenancyErrorCode.BULK_INPUT_INVALID, `Send the rows as ${BULK_MEDIA_TYPES.join(' or ')}`);
    }
    const job = await this.onboarding.createJob(p, tenantId, format, body);
    this.worker.kick();
    res.setHeader('Location', `/v1/onboarding-jobs/${job.id}`);
    return jobView(job);
  }

  @Get('v1/onboarding-jobs/:id')
  @RequireScopes(Scopes.TenantsRead)
  async get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<JobView> {
    return jobView(await this.onboarding.getJob(p, id));
  }

  @Get('v1/onboarding-jobs/:id/results')
  @RequireScopes(Scopes.TenantsRead)
  results(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() page: PageQuery,
  ): Promise<Page<RowResultView>> {
    return this.onboarding.results(p, id, page.limit, page.cursor);
  }
}
