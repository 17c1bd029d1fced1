import { ApiPropertyOptional } from '@nestjs/swagger';
import { SchemaObject } from 'ajv';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { FUNDING_SOURCES, FundingSource, RENEWAL_PROJECT_STATUSES, RenewalProjectStatus } from '@iip/contracts';
import { FieldError, RequestValidationError, requestSchema } from '@iip/platform-errors';
import { PageQuery } from '@iip/platform-http';

/** The most a project (or one of its amounts) may hold: ten trillion CNY, so two decimals stay exact in a double. */
export const MAX_AMOUNT_CNY = 10_000_000_000_000;
export const MAX_PROJECT_DEVICES = 1000;
export const MAX_PROJECT_MODELS = 50;

export interface FundingInput {
  source: FundingSource;
  amountCny: number;
}
export interface YearAmountInput {
  year: number;
  amountCny: number;
}

export interface CreateProjectInput {
  tenantId?: string;
  name: string;
  description?: string;
  deviceIds: string[];
  modelIds: string[];
  estimatedInvestmentCny: number;
  funding?: FundingInput[];
}

export interface UpdateProjectInput {
  name?: string;
  description?: string | null;
  deviceIds?: string[];
  modelIds?: string[];
  estimatedInvestmentCny?: number;
  funding?: FundingInput[];
  actualInvestments?: YearAmountInput[];
}

export interface TransitionInput {
  to: RenewalProjectStatus;
  actualInvestments?: YearAmountInput[];
}

export interface ReplacementInput {
  oldDeviceId: string;
  newDeviceId: string;
}

const amount = (description: string): SchemaObject => ({
  type: 'number',
  minimum: 0,
  maximum: MAX_AMOUNT_CNY,
  description: `${description} (CNY, at most two decimals)`,
});
const ids = (max: number, description: string): SchemaObject => ({
  type: 'array',
  minItems: 1,
  maxItems: max,
  uniqueItems: true,
  items: { type: 'string', format: 'uuid' },
  description,
});
const FUNDING: SchemaObject = {
  type: 'array',
  maxItems: FUNDING_SOURCES.length,
  description:
    'Amount per source: central-budget (中央预算内投资), technical-renewal-reloan (技术改造再贷款), tax-incentive (税收优惠), own-funds; each source once',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['source', 'amountCny'],
    properties: { source: { enum: [...FUNDING_SOURCES] }, amountCny: amount('The amount from this source') },
  },
};
const ACTUAL: SchemaObject = {
  type: 'array',
  maxItems: 50,
  description: 'What was spent, per calendar year; replaces what was recorded. Only from installed on.',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['year', 'amountCny'],
    properties: { year: { type: 'integer', minimum: 2000, maximum: 2200 }, amountCny: amount('Spent in that year') },
  },
};
const NAME: SchemaObject = { type: 'string', minLength: 1, maxLength: 200 };
const DESCRIPTION: SchemaObject = { type: 'string', maxLength: 2000 };
const DEVICE_IDS = ids(MAX_PROJECT_DEVICES, 'The old devices the project renews (of the tenant and its subtree)');
const MODEL_IDS = ids(MAX_PROJECT_MODELS, 'The thing models replacing them (models the tenant may use)');

export const CREATE_PROJECT_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'deviceIds', 'modelIds', 'estimatedInvestmentCny'],
  properties: {
    tenantId: { type: 'string', format: 'uuid', description: 'A tenant you manage; default: your own' },
    name: NAME,
    description: DESCRIPTION,
    deviceIds: DEVICE_IDS,
    modelIds: MODEL_IDS,
    estimatedInvestmentCny: amount('Estimated investment'),
    funding: FUNDING,
  },
};
export const UPDATE_PROJECT_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: NAME,
    description: { type: ['string', 'null'], maxLength: 2000 },
    deviceIds: DEVICE_IDS,
    modelIds: MODEL_IDS,
    estimatedInvestmentCny: amount('Estimated investment'),
    funding: { ...FUNDING, description: `${FUNDING.description as string}; replaces the whole list` },
    actualInvestments: ACTUAL,
  },
};
export const TRANSITION_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['to'],
  properties: {
    to: { enum: [...RENEWAL_PROJECT_STATUSES], description: 'The next status: planned → approved → procured → installed → verified' },
    actualInvestments: ACTUAL,
  },
};
export const REPLACEMENT_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['oldDeviceId', 'newDeviceId'],
  properties: {
    oldDeviceId: { type: 'string', format: 'uuid', description: 'A device the project renews; it is decommissioned' },
    newDeviceId: { type: 'string', format: 'uuid', description: 'A device registered as usual, of a model the project names' },
  },
};

export const createProjectSchema = checked<CreateProjectInput>(CREATE_PROJECT_SCHEMA);
export const updateProjectSchema = checked<UpdateProjectInput>(UPDATE_PROJECT_SCHEMA);
export const transitionSchema = checked<TransitionInput>(TRANSITION_SCHEMA);
export const replacementSchema = checked<ReplacementInput>(REPLACEMENT_SCHEMA);

/** The schema's checks, then what it cannot say: amounts have at most two decimals; a source or a year appears once. */
function checked<T extends object>(schema: SchemaObject) {
  const base = requestSchema<T>(schema);
  return {
    schema,
    check(value: unknown): T {
      const input = base.check(value) as Partial<UpdateProjectInput & TransitionInput>;
      const problems: FieldError[] = [];
      const cents = (n: number, field: string) => {
        if (Math.round(n * 100) / 100 !== n) problems.push({ field, message: 'has more than two decimals' });
      };
      if (input.estimatedInvestmentCny !== undefined) cents(input.estimatedInvestmentCny, 'estimatedInvestmentCny');
      input.funding?.forEach((f, i) => cents(f.amountCny, `funding.${i}.amountCny`));
      input.actualInvestments?.forEach((a, i) => cents(a.amountCny, `actualInvestments.${i}.amountCny`));
      const once = <X>(items: X[] | undefined, key: (x: X) => string | number, field: string) =>
        items?.forEach((x, i) => {
          if (items.findIndex((y) => key(y) === key(x)) !== i)
            problems.push({ field: `${field}.${i}`, message: 'repeats an earlier entry' });
        });
      once(input.funding, (f) => f.source, 'funding');
      once(input.actualInvestments, (a) => a.year, 'actualInvestments');
      if (problems.length) throw new RequestValidationError(problems);
      return input as T;
    },
  };
}

export class ListProjectsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only the projects of this tenant (one you see)' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;

  @ApiPropertyOptional({ enum: RENEWAL_PROJECT_STATUSES })
  @IsOptional()
  @IsIn(RENEWAL_PROJECT_STATUSES)
  status?: RenewalProjectStatus;
}
