import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { RenewalV1 } from '@iip/contracts';
import { RequireScopes, principalOf } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE } from '@iip/platform-http';
import { RenewalScopes } from '../scopes';
import { CandidatesService, RenewalCandidate } from './candidates.service';
import { Indicator, IndicatorReport, IndicatorsService } from './indicators.service';
import { RuleVersionRef } from './rules';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function optionalUuid(value: string, field: string): string | undefined {
  if (value === '') return undefined;
  if (!UUID.test(value)) throw new RequestValidationError([{ field, message: 'must be a UUID' }]);
  return value;
}

/** gRPC adapter: the same service methods as GET /v1/renewal/candidates and /indicators. */
@Controller()
@RenewalV1.RenewalServiceControllerMethods()
export class RenewalGrpcController implements RenewalV1.RenewalServiceController {
  constructor(
    private readonly candidates: CandidatesService,
    private readonly indicators: IndicatorsService,
  ) {}

  @RequireScopes(RenewalScopes.RenewalRead)
  async listCandidates(request: RenewalV1.ListCandidatesRequest, metadata: Metadata): Promise<RenewalV1.ListCandidatesResponse> {
    if (request.limit < 0 || request.limit > 200) throw new RequestValidationError([{ field: 'limit', message: 'must be 0 to 200' }]);
    const page = await this.candidates.list(principalOf(metadata), {
      tenantId: optionalUuid(request.tenantId, 'tenant_id'),
      limit: request.limit || DEFAULT_PAGE_SIZE,
      cursor: request.cursor || undefined,
    });
    return {
      candidates: page.items.map(candidateMessage),
      nextCursor: page.nextCursor ?? '',
      ruleVersion: versionMessage(page.ruleVersion),
      total: page.total,
    };
  }

  @RequireScopes(RenewalScopes.RenewalRead)
  async getIndicators(request: RenewalV1.GetIndicatorsRequest, metadata: Metadata): Promise<RenewalV1.IndicatorReport> {
    if (request.year !== 0 && (request.year < 1900 || request.year > 2200)) {
      throw new RequestValidationError([{ field: 'year', message: 'must be 0 or a year from 1900 to 2200' }]);
    }
    const report = await this.indicators.report(principalOf(metadata), optionalUuid(request.tenantId, 'tenant_id'), {
      year: request.year || undefined,
      children: request.includeChildren,
    });
    return reportMessage(report);
  }
}

function versionMessage(v: RuleVersionRef): RenewalV1.RuleVersion {
  return { tenantId: v.tenantId ?? '', version: v.version };
}

function candidateMessage(c: RenewalCandidate): RenewalV1.RenewalCandidate {
  return {
    deviceId: c.deviceId,
    tenantId: c.tenantId,
    name: c.name,
    handle: c.handle ?? '',
    status: c.status,
    priority: c.priority,
    action: c.action,
    reasons: c.reasons.map((r) => ({ code: r.code, action: r.action, factsJson: JSON.stringify(r.facts) })),
    profileJson: JSON.stringify(c.profile),
  };
}

function indicatorMessage(i: Indicator): RenewalV1.Indicator {
  return {
    numerator: i.numerator,
    denominator: i.denominator,
    value: i.value ?? 0,
    hasValue: i.value !== null,
    target: i.target ?? 0,
    hasTarget: i.target !== null,
    met: i.met === true,
    ruleVersion: versionMessage(i.ruleVersion),
  };
}

function reportMessage(r: IndicatorReport): RenewalV1.IndicatorReport {
  const i = r.indicators;
  return {
    tenantId: r.tenantId,
    tenantKind: r.tenantKind,
    asOf: r.asOf,
    ruleVersion: versionMessage(r.ruleVersion),
    devices: r.devices,
    keyProcessNcRate: indicatorMessage(i.keyProcessNcRate),
    networkingRate: indicatorMessage(i.networkingRate),
    energySavingShare: indicatorMessage(i.energySavingShare),
    overAgeShare: indicatorMessage(i.overAgeShare),
    investmentGrowth: indicatorMessage(i.investmentGrowth),
    investmentYear: i.investmentGrowth.year,
    baselineYear: i.investmentGrowth.baselineYear,
    children: (r.children ?? []).map(reportMessage),
  };
}
