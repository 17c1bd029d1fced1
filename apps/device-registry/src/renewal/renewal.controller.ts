import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { schemaPipe } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE, openApiSchema } from '@iip/platform-http';
import { RenewalScopes } from '../scopes';
import { CandidatePage, CandidatesService } from './candidates.service';
import { IndicatorReport, IndicatorsService } from './indicators.service';
import { InvestmentView, InvestmentsService } from './investments.service';
import {
  CandidatesQuery,
  HistoryQuery,
  INVESTMENT_SCHEMA,
  IndicatorsQuery,
  InvestmentInput,
  TenantQuery,
  historyRange,
  investmentSchema,
  yearPipe,
} from './renewal.dto';
import { RULES_SCHEMA, RenewalRules, renewalRulesSchema } from './rules';
import { EffectiveRules, RulesService } from './rules.service';
import { SnapshotsService } from './snapshots.service';

@ApiTags('renewal')
@ApiBearerAuth()
@Controller('v1/renewal')
export class RenewalController {
  constructor(
    private readonly rules: RulesService,
    private readonly candidates: CandidatesService,
    private readonly indicators: IndicatorsService,
    private readonly snapshots: SnapshotsService,
    private readonly investments: InvestmentsService,
  ) {}

  @Get('rules')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiOperation({
    summary: "The renewal rules that apply: the tenant's newest version, else its nearest ancestor's, else the plan's defaults (version 0)",
  })
  getRules(@CurrentPrincipal() actor: Principal, @Query() q: TenantQuery): Promise<EffectiveRules> {
    return this.rules.get(actor, q.tenantId);
  }

  @Put('rules')
  @RequireScopes(RenewalScopes.RenewalWrite)
  @ApiBody({ schema: openApiSchema(RULES_SCHEMA) })
  @ApiOperation({ summary: 'Sets the rules of a tenant you manage: every change is a new version' })
  putRules(
    @CurrentPrincipal() actor: Principal,
    @Query() q: TenantQuery,
    @Body(schemaPipe(renewalRulesSchema)) body: RenewalRules,
  ): Promise<EffectiveRules> {
    return this.rules.put(actor, body, q.tenantId);
  }

  @Get('candidates')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiOperation({ summary: 'Devices you manage that the rules say to renew or upgrade, with their reasons, highest priority first' })
  listCandidates(@CurrentPrincipal() actor: Principal, @Query() q: CandidatesQuery): Promise<CandidatePage> {
    return this.candidates.list(actor, { tenantId: q.tenantId, limit: q.limit ?? DEFAULT_PAGE_SIZE, cursor: q.cursor });
  }

  @Get('indicators')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiOperation({ summary: "The plan's indicators of a tenant and its subtree (a park: over its members, aggregates only)" })
  getIndicators(@CurrentPrincipal() actor: Principal, @Query() q: IndicatorsQuery): Promise<IndicatorReport> {
    return this.indicators.report(actor, q.tenantId, { year: q.year, children: q.children === 'true' });
  }

  @Get('indicators/history')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiOperation({ summary: 'Monthly snapshots of the indicators, for a trend' })
  history(@CurrentPrincipal() actor: Principal, @Query() q: HistoryQuery) {
    const { from, to } = historyRange(q);
    return this.snapshots.history(actor, from, to, q.tenantId);
  }

  @Get('investments')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiOperation({ summary: "A tenant's equipment investment rows: reported per year, and its renewal projects'" })
  listInvestments(@CurrentPrincipal() actor: Principal, @Query() q: TenantQuery): Promise<{ items: InvestmentView[] }> {
    return this.investments.list(actor, q.tenantId);
  }

  @Put('investments/:year')
  @RequireScopes(RenewalScopes.RenewalWrite)
  @ApiParam({ name: 'year', example: 2023, description: '1900 … 2200; 2023 is the baseline' })
  @ApiBody({ schema: openApiSchema(INVESTMENT_SCHEMA) })
  @ApiOperation({ summary: "Reports a tenant's equipment investment for a year (replaces the year's reported figure)" })
  putInvestment(
    @CurrentPrincipal() actor: Principal,
    @Param('year', yearPipe) year: number,
    @Body(schemaPipe(investmentSchema)) body: InvestmentInput & { amountCny: string },
  ): Promise<InvestmentView> {
    return this.investments.report(actor, year, body.amountCny, body.tenantId);
  }
}
