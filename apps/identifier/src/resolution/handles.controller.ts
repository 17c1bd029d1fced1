import { Body, Controller, Delete, Get, Headers, Param, Put, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { schemaPipe } from '@iip/platform-errors';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { Request, Response } from 'express';
import { CurrentPrincipal, OptionalAuth, OptionalPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { isHandleSyntaxError, parseHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { HandleRecordDto } from '../identifiers/dto/handle-value.dto';
import { HandleRecordInput, HandleValueInput, INT32_MAX, handleRecordSchema } from '../identifiers/dto/handle-value.schema';
import { IdentifiersService } from '../identifiers/identifiers.service';
import { parseIdempotencyKey } from '../identifiers/idempotency.service';
import { HandleApiErrorFilter } from './handle-api.filter';
import { hopsOf } from './remote-resolver';
import { ResolutionService, handleAnswer, setResolutionHeaders } from './resolution.service';

const asArray = ({ value }: { value: unknown }): unknown[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? (value as unknown[]) : [value];

export class ResolveQueryDto {
  @IsOptional() @Transform(asArray) @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(128, { each: true }) type?: string[];
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => asArray({ value })?.map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v)))
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  index?: number[];
  /** Handle API: bypass caches and ask the primary source. */
  @IsOptional() @IsIn(['true', 'false']) auth?: string;
  @IsOptional() @IsIn(['true', 'false', '']) pretty?: string;
}

export class WriteQueryDto {
  @IsOptional() @IsIn(['true', 'false']) overwrite?: string;
}

/** The If-Match header carries the version read: `"3"` or `3`. */
function versionFrom(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,10})"?\s*$/.exec(ifMatch);
  const version = m ? Number(m[1]) : NaN;
  if (!(version >= 1 && version <= INT32_MAX)) {
    throw new IdentifierError(
      IdentifierErrorCode.INVALID_VALUE,
      `If-Match must carry the identifier version, e.g. "3": an integer from 1 to ${INT32_MAX}`,
    );
  }
  return version;
}

/**
 * The Handle System's REST API: GET resolves, PUT creates or replaces, DELETE removes. Paths
 * and bodies are those of `/api/handles/{handle}` so existing Handle clients work unchanged.
 */
@ApiTags('handles')
@Controller('api/handles')
export class HandlesController {
  constructor(
    private readonly resolution: ResolutionService,
    private readonly identifiers: IdentifiersService,
  ) {}

  @Get('*handle')
  @OptionalAuth()
  @UseFilters(HandleApiErrorFilter)
  @ApiOperation({ summary: 'Resolve a handle (public values anonymously; more with a token)' })
  async resolve(
    @Param('handle') path: string[] | string,
    @Query() query: ResolveQueryDto,
    @OptionalPrincipal() caller: Principal | undefined,
    @Req() req: Request & { handleName?: string },
    @Res({ passthrough: true }) res: Response,
  ) {
    const name = (req.handleName = joinPath(path));
    // Hops so far, from the node that delegated here: a loop ends at IDENTIFIER_MAX_HOPS.
    const result = await this.resolution.resolve(
      caller,
      name,
      { types: query.type ?? [], indexes: query.index ?? [] },
      query.auth === 'true',
      hopsOf(req.headers),
    );
    setResolutionHeaders(res, result.source);
    return handleAnswer(result);
  }

  @Put('*handle')
  @ApiBearerAuth()
  @RequireScopes('identifiers:write')
  @UseFilters(HandleApiErrorFilter)
  @ApiBody({ type: HandleRecordDto })
  @ApiOperation({
    summary: 'Create or replace a handle; If-Match: "<version>" for optimistic concurrency; Idempotency-Key for safe retries',
  })
  async put(
    @Param('handle') path: string[] | string,
    @Body(schemaPipe(handleRecordSchema)) body: HandleRecordInput,
    @Query() query: WriteQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('idempotency-key') idemKey: string | undefined,
    @CurrentPrincipal() actor: Principal,
    @Req() req: Request & { handleName?: string },
    @Res({ passthrough: true }) res: Response,
  ) {
    const handle = this.parse((req.handleName = joinPath(path)));
    const expectedVersion = versionFrom(ifMatch);
    const values: HandleValueInput[] = body.values;
    const outcome = await this.identifiers.putRecord(
      actor,
      handle,
      values,
      { expectedVersion, overwrite: query.overwrite !== 'false', template: body.template ?? undefined },
      parseIdempotencyKey(idemKey),
    );
    res.status(outcome.status);
    res.setHeader('ETag', `"${String(outcome.body.version)}"`);
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return outcome.body;
  }

  @Delete('*handle')
  @ApiBearerAuth()
  @RequireScopes('identifiers:write')
  @UseFilters(HandleApiErrorFilter)
  @ApiOperation({ summary: 'Delete a handle' })
  async remove(
    @Param('handle') path: string[] | string,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('idempotency-key') idemKey: string | undefined,
    @CurrentPrincipal() actor: Principal,
    @Req() req: Request & { handleName?: string },
    @Res({ passthrough: true }) res: Response,
  ) {
    const handle = this.parse((req.handleName = joinPath(path)));
    const expectedVersion = versionFrom(ifMatch);
    const outcome = await this.identifiers.deleteRecord(actor, handle, expectedVersion, parseIdempotencyKey(idemKey));
    res.status(outcome.status);
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return outcome.body;
  }

  private parse(name: string) {
    const parsed = parseHandle(name);
    if (isHandleSyntaxError(parsed))
      throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, parsed.message, { problem: parsed.problem });
    return parsed;
  }
}

/** Express 5 hands a wildcard over as its path segments, already percent-decoded. */
function joinPath(path: string[] | string): string {
  return Array.isArray(path) ? path.join('/') : path;
}
