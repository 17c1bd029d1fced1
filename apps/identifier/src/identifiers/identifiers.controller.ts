import { Body, Controller, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import type { Response } from 'express';
import { CurrentPrincipal, OptionalAuth, OptionalPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { Page, PageQuery } from '@iip/platform-http';
import { BatchRegistrationService } from './batch-registration.service';
import { parseIdempotencyKey } from './idempotency.service';
import { BatchRegisterDto } from './dto/batch.dto';
import { BatchRegisterInput, batchRegisterSchema } from './dto/handle-value.schema';
import { schemaPipe } from '@iip/platform-errors';
import { IdentifierQueriesService, IdentifierSummary } from './identifier-queries.service';

export class ListQuery extends PageQuery {
  @ApiPropertyOptional({ example: '88.100.1000' }) @IsString() @MaxLength(64) prefix!: string;
}

export class ReverseQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'SERIAL' }) @IsString() @MaxLength(128) type!: string;
  @ApiPropertyOptional({ example: 'SN-000042' }) @IsString() @MaxLength(2048) value!: string;
}

/**
 * The platform's own identifier endpoints next to the Handle API: batch registration, listing,
 * reverse lookup. Their errors are problem+json like every IIP route's; only /api/handles keeps
 * the Handle API's error shape (a batch's per-item results still carry Handle response codes).
 */
@ApiTags('identifiers')
@Controller('v1/identifiers')
export class IdentifiersController {
  constructor(
    private readonly batch: BatchRegistrationService,
    private readonly queries: IdentifierQueriesService,
  ) {}

  @Post('batch')
  @HttpCode(200)
  @ApiBearerAuth()
  @RequireScopes('identifiers:write')
  @ApiBody({ type: BatchRegisterDto })
  @ApiOperation({ summary: 'Register up to 5,000 identifiers; a result per item; Idempotency-Key for safe retries' })
  async register(
    @CurrentPrincipal() actor: Principal,
    @Body(schemaPipe(batchRegisterSchema)) body: BatchRegisterInput,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const outcome = await this.batch.register(actor, body.items, parseIdempotencyKey(key));
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return outcome.body;
  }

  @Get()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'List the identifiers under one of your prefixes' })
  list(@CurrentPrincipal() actor: Principal, @Query() q: ListQuery): Promise<Page<IdentifierSummary>> {
    return this.queries.listByPrefix(actor, q.prefix, q.limit, q.cursor);
  }

  @Get('reverse')
  @OptionalAuth()
  @ApiOperation({ summary: 'Find identifiers by a value, e.g. a serial number (within what you may read)' })
  reverse(@OptionalPrincipal() caller: Principal | undefined, @Query() q: ReverseQuery): Promise<Page<IdentifierSummary>> {
    return this.queries.reverseLookup(caller, q.type, q.value, q.limit, q.cursor);
  }
}
