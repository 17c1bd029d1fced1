import { Injectable } from '@nestjs/common';
import { FUNDING_SOURCES, RENEWAL_PROJECT_STATUSES } from '@iip/contracts';
import { Principal } from '@iip/platform-auth';
import { TenantsRepository } from '../tenants/tenants.repository';
import { ExportColumn, ExportTable, ExportValue } from './exports.format';
import { Indicator, IndicatorReport, IndicatorSet, IndicatorsService } from './indicators.service';
import { ProjectView, ProjectsService } from './projects.service';
import { aggregateTenant } from './renewal-scope';

const PAGE = 200;

const PROJECT_COLUMNS: ExportColumn[] = [
  { header: 'projectId', kind: 'text', width: 38 },
  { header: 'name', kind: 'text', width: 32 },
  { header: 'tenantId', kind: 'text', width: 38 },
  { header: 'status', kind: 'text', width: 12 },
  ...RENEWAL_PROJECT_STATUSES.map((s): ExportColumn => ({ header: `${s}At`, kind: 'text', width: 26 })),
  { header: 'devices', kind: 'number', width: 10 },
  { header: 'devicesReplaced', kind: 'number', width: 10 },
  { header: 'estimatedInvestmentCny', kind: 'number' },
  { header: 'actualInvestmentCny', kind: 'number' },
  ...FUNDING_SOURCES.map((s): ExportColumn => ({ header: `funding.${s}`, kind: 'number' })),
  { header: 'fundingTotalCny', kind: 'number' },
];

const INDICATORS: (keyof IndicatorSet)[] = ['keyProcessNcRate', 'networkingRate', 'energySavingShare', 'overAgeShare', 'investmentGrowth'];
const INDICATOR_COLUMNS: ExportColumn[] = [
  { header: 'tenantId', kind: 'text', width: 38 },
  { header: 'tenantKind', kind: 'text', width: 12 },
  { header: 'row', kind: 'text', width: 10 },
  { header: 'devices', kind: 'number', width: 10 },
  ...INDICATORS.flatMap((k): ExportColumn[] => [
    { header: `${k}.numerator`, kind: 'number' },
    { header: `${k}.denominator`, kind: 'number' },
    { header: `${k}.value`, kind: 'share' },
    { header: `${k}.target`, kind: 'share' },
    { header: `${k}.met`, kind: 'text', width: 8 },
  ]),
  { header: 'investmentYear', kind: 'text', width: 8 },
  { header: 'baselineYear', kind: 'text', width: 8 },
  { header: 'ruleVersion', kind: 'text', width: 40 },
  { header: 'asOf', kind: 'text', width: 26 },
];

/**
 * The project list and the plan's indicators as tables for a report to the authorities, for
 * the caller's tenant or one it sees (a group: its subsidiaries; a park: its members, as
 * aggregates and project summaries, never a member's device list).
 */
@Injectable()
export class ExportsService {
  constructor(
    private readonly projects: ProjectsService,
    private readonly indicators: IndicatorsService,
    private readonly tenants: TenantsRepository,
  ) {}

  /** The projects of the tenant's subtree the actor sees. The first page is read here, so a refusal comes before any byte is sent. */
  async projectsTable(actor: Principal, tenantId?: string): Promise<ExportTable> {
    const scope = tenantId ? (await aggregateTenant(this.tenants, actor, tenantId)).id : undefined;
    const first = await this.projects.list(actor, { subtreeOf: scope }, PAGE);
    const projects = this.projects;
    return {
      sheet: 'Renewal projects',
      columns: PROJECT_COLUMNS,
      rows: (async function* () {
        let page = first;
        for (;;) {
          yield page.items.map(projectRow);
          if (!page.nextCursor) return;
          page = await projects.list(actor, { subtreeOf: scope }, PAGE, page.nextCursor);
        }
      })(),
    };
  }

  /** The tenant's indicators (its whole subtree), then one row per tenant right below it (subsidiaries, members). */
  async indicatorsTable(actor: Principal, tenantId?: string): Promise<ExportTable> {
    const report = await this.indicators.report(actor, tenantId, { children: true });
    return {
      sheet: 'Renewal indicators',
      columns: INDICATOR_COLUMNS,
      rows: [[indicatorRow(report, 'total'), ...(report.children ?? []).map((c) => indicatorRow(c, 'member'))]],
    };
  }
}

function projectRow(p: ProjectView): ExportValue[] {
  const at = new Map(p.history.map((h) => [h.status, h.at]));
  const funded = new Map(p.funding.map((f) => [f.source, f.amountCny]));
  return [
    p.id,
    p.name,
    p.tenantId,
    p.status,
    ...RENEWAL_PROJECT_STATUSES.map((s) => at.get(s) ?? null),
    p.deviceCount,
    p.replacedCount,
    p.estimatedInvestmentCny,
    p.actualInvestmentCny,
    ...FUNDING_SOURCES.map((s) => funded.get(s) ?? 0),
    p.fundingTotalCny,
  ];
}

function indicatorRow(r: IndicatorReport, row: 'total' | 'member'): ExportValue[] {
  const cells = (i: Indicator): ExportValue[] => [i.numerator, i.denominator, i.value, i.target, i.met === null ? null : String(i.met)];
  const growth = r.indicators.investmentGrowth;
  return [
    r.tenantId,
    r.tenantKind,
    row,
    r.devices,
    ...INDICATORS.flatMap((k) => cells(r.indicators[k])),
    String(growth.year),
    String(growth.baselineYear),
    `${r.ruleVersion.tenantId ?? 'platform'}@${r.ruleVersion.version}`,
    r.asOf,
  ];
}
