import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';
import { SchemaObject } from 'ajv';
import { PipeTransform } from '@nestjs/common';
import { RequestValidationError, requestSchema } from '@iip/platform-errors';
import { PageQuery } from '@iip/platform-http';

const decimal = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value);
const MONTH = /^(19|20|21)\d{2}-(0[1-9]|1[0-2])$/;

export class TenantQuery {
  @ApiPropertyOptional({ description: 'A tenant you may see the figures of (default: your own)' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}

export class IndicatorsQuery extends TenantQuery {
  @ApiPropertyOptional({ minimum: 1900, maximum: 2200, description: 'Investment year (default: the current year)' })
  @IsOptional()
  @Transform(decimal)
  @IsInt()
  @Min(1900)
  @Max(2200)
  year?: number;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: "Also each tenant right below: a group's subsidiaries, a park's members" })
  @IsOptional()
  @IsIn(['true', 'false'])
  children?: 'true' | 'false';
}

export class HistoryQuery extends TenantQuery {
  @ApiPropertyOptional({ example: '2026-01', description: 'First month (YYYY-MM; default 11 months before `to`)' })
  @IsOptional()
  @Matches(MONTH, { message: 'from must be a month, YYYY-MM' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12', description: 'Last month (YYYY-MM; default the current month)' })
  @IsOptional()
  @Matches(MONTH, { message: 'to must be a month, YYYY-MM' })
  to?: string;
}

export class CandidatesQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only the devices of this tenant (one you manage), under its rules' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;

  @ApiPropertyOptional({ enum: ['priority'], default: 'priority', description: 'Highest priority score first, then by device id' })
  @IsOptional()
  @IsIn(['priority'])
  sort?: 'priority';
}

export interface InvestmentInput {
  amountCny: number | string;
  tenantId?: string;
}
export const INVESTMENT_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['amountCny'],
  properties: {
    amountCny: {
      description: 'The year’s equipment investment in CNY, at most two decimals: a number or a decimal string ("1250000.50")',
      oneOf: [
        { type: 'number', minimum: 0, maximum: 9_999_999_999_999 },
        { type: 'string', pattern: '^[0-9]{1,16}(\\.[0-9]{1,2})?$' },
      ],
    },
    tenantId: { type: 'string', format: 'uuid', description: 'A tenant you manage; default: your own' },
  },
};
const investmentBase = requestSchema<InvestmentInput>(INVESTMENT_SCHEMA);
export const investmentSchema = {
  schema: INVESTMENT_SCHEMA,
  /** The input, with the amount as an exact decimal string. */
  check(value: unknown): InvestmentInput & { amountCny: string } {
    const input = investmentBase.check(value);
    const amount = typeof input.amountCny === 'number' ? input.amountCny : Number(input.amountCny);
    if (typeof input.amountCny === 'number' && Math.round(input.amountCny * 100) / 100 !== input.amountCny) {
      throw new RequestValidationError([{ field: 'amountCny', message: 'has more than two decimals' }]);
    }
    if (!Number.isFinite(amount)) throw new RequestValidationError([{ field: 'amountCny', message: 'is not a number' }]);
    return { ...input, amountCny: typeof input.amountCny === 'string' ? input.amountCny : input.amountCny.toFixed(2) };
  },
};

/** A year in the path: decimal digits, 1900 … 2200; anything else a 400 naming `year`. */
export const yearPipe: PipeTransform<string, number> = {
  transform(value: string): number {
    if (!/^\d{4}$/.test(value) || Number(value) < 1900 || Number(value) > 2200) {
      throw new RequestValidationError([{ field: 'year', message: 'must be a year from 1900 to 2200' }]);
    }
    return Number(value);
  },
};

/** Default history range: the 12 months up to the current one. */
export function historyRange(q: HistoryQuery, now = new Date()): { from: string; to: string } {
  const to = q.to ?? now.toISOString().slice(0, 7);
  const [y, m] = to.split('-').map(Number);
  const start = new Date(Date.UTC(y, m - 12, 1));
  const from = q.from ?? start.toISOString().slice(0, 7);
  if (from > to) throw new RequestValidationError([{ field: 'from', message: 'must not be after to' }]);
  return { from, to };
}
