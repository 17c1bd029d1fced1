import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiProperty, ApiPropertyOptional, ApiTags, IntersectionType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { Response } from 'express';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { TelemetryScopes } from '../scopes';
import { BUCKET_NAMES } from './buckets';
import { MAX_SELECTED_DEVICES, MAX_SELECTOR_TAGS } from './device-selector';
import { QueryService } from './query.service';

const uuid = new ParseUUIDPipe({ version: undefined });
const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** [from, to) as ISO 8601 instants. */
export class TimeRangeDto {
  @ApiProperty({ description: 'ISO 8601 instant with an offset; inclusive' })
  @IsString()
  @MaxLength(40)
  from!: string;

  @ApiProperty({ description: 'ISO 8601 instant with an offset; exclusive' })
  @IsString()
  @MaxLength(40)
  to!: string;
}

export class RangeQueryDto extends TimeRangeDto {
  @ApiProperty({ description: 'A property of the device’s thing model' })
  @IsString()
  @Matches(PROPERTY, { message: 'property must be a thing-model member name' })
  property!: string;
}

export class RawQueryDto extends RangeQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 10_000, default: 1000 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  cursor?: string;
}

export class AggregateQueryDto extends RangeQueryDto {
  @ApiProperty({ enum: BUCKET_NAMES })
  @IsIn(BUCKET_NAMES)
  bucket!: string;

  @ApiPropertyOptional({ description: 'IANA time zone buckets follow (default Asia/Shanghai)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  tz?: string;
}

const SELECTED =
  'Instead of deviceIds: the devices matching every one of site, line, tags and query, as the device registry answers your token (needs devices:read)';

/** Devices named by id, or selected by site, line, tags or a fleet query (at most 500 either way). */
export class SelectionDto {
  @ApiPropertyOptional({ type: [String], maxItems: MAX_SELECTED_DEVICES, description: 'The devices, by id' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SELECTED_DEVICES)
  @IsUUID('all', { each: true })
  deviceIds?: string[];

  @ApiPropertyOptional({ maxLength: 200, description: `The tag site. ${SELECTED}` })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  site?: string;

  @ApiPropertyOptional({ maxLength: 200, description: `The tag line. ${SELECTED}` })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  line?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 200 },
    maxProperties: MAX_SELECTOR_TAGS,
    description: `Tags the devices carry (names of letters, digits and _). ${SELECTED}`,
  })
  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;

  @ApiPropertyOptional({
    maxLength: 2000,
    description: `A fleet query, e.g. tags.line = 'L1' AND profile.category = 'pump' (device registry README, "Fleet query"). ${SELECTED}`,
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  query?: string;
}

export class ManyAggregateDto extends IntersectionType(AggregateQueryDto, SelectionDto) {}

const CURSOR = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

@ApiTags('telemetry')
@ApiBearerAuth()
@Controller()
export class QueryController {
  constructor(private readonly query: QueryService) {}

  @Get('v1/devices/:deviceId/telemetry')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({
    summary:
      'Raw points of one property over [from, to), in time order, a page at a time (another tenant’s device: where it granted you telemetry:read)',
  })
  raw(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Query() q: RawQueryDto,
    @Headers('authorization') authorization?: string,
  ) {
    const after = q.cursor !== undefined ? cursorOf(q.cursor) : undefined;
    return this.query.raw(actor, deviceId.toLowerCase(), { ...q, limit: q.limit ?? 1000, after }, authorization);
  }

  @Get('v1/devices/:deviceId/telemetry/export')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiProduces('text/csv')
  @ApiOperation({ summary: 'Every point of one property over [from, to) as CSV (ts,value), streamed' })
  async export(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Query() q: RangeQueryDto,
    @Res() res: Response,
    @Headers('authorization') authorization?: string,
  ): Promise<void> {
    const id = deviceId.toLowerCase();
    // The first page is read before anything is sent: a refusal is still a problem+json answer.
    let page = await this.query.raw(actor, id, { ...q, limit: 5000 }, authorization);
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="${id}-${q.property}.csv"`);
    res.write('ts,value\n');
    try {
      for (;;) {
        for (const p of page.items) res.write(`${p.ts},${csvField(p.value)}\n`);
        if (!page.nextCursor) break;
        page = await this.query.raw(actor, id, { ...q, limit: 5000, after: new Date(page.nextCursor) }, authorization);
      }
      res.end();
    } catch {
      // Half a file must not look like a whole one: the connection is cut.
      res.destroy();
    }
  }

  @Get('v1/devices/:deviceId/telemetry/latest')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'The newest value of each property' })
  latest(
    @CurrentPrincipal() actor: Principal,
    @Param('deviceId', uuid) deviceId: string,
    @Headers('authorization') authorization?: string,
  ) {
    return this.query.latest(actor, deviceId.toLowerCase(), authorization);
  }

  @Post('v1/telemetry/latest')
  @HttpCode(200)
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({ summary: 'The newest value of each property of several devices: by id, or by site, line, tags or fleet query' })
  latestMany(@CurrentPrincipal() actor: Principal, @Body() body: SelectionDto, @Headers('authorization') authorization?: string) {
    return this.query.latestMany(actor, body, authorization);
  }

  @Get('v1/devices/:deviceId/telemetry/aggregate')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({
    summary:
      'count, min, max, sum, avg, first and last per time bucket (1m to 1d, in a time zone), from the rollup that answers fastest; from and to lie on bucket boundaries',
  })
  aggregate(@CurrentPrincipal() actor: Principal, @Param('deviceId', uuid) deviceId: string, @Query() q: AggregateQueryDto) {
    return this.query.aggregate(actor, { deviceIds: [deviceId.toLowerCase()] }, q);
  }

  @Post('v1/telemetry/aggregate')
  @RequireScopes(TelemetryScopes.TelemetryRead)
  @ApiOperation({
    summary: 'The same aggregate over several devices at once: by id (a park: its members’ devices), or by site, line, tags or fleet query',
  })
  many(@CurrentPrincipal() actor: Principal, @Body() body: ManyAggregateDto, @Headers('authorization') authorization?: string) {
    return this.query.aggregate(actor, body, body, authorization);
  }
}

export function cursorOf(cursor: string): Date {
  if (!CURSOR.test(cursor)) throw new RequestValidationError([{ field: 'cursor', message: 'is not a cursor this API issued' }]);
  return new Date(cursor);
}

function csvField(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
