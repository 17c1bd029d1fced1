import { ifMatchVersion } from '@iip/platform-http';
import { Body, Controller, Delete, Get, Headers, Param, Put, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { schemaPipe } from '@iip/platform-errors';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { Request, Response } from 'express';
import { AcceptsBasicAuth, CurrentPrincipal, OptionalAuth, OptionalPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { isHandleSyntaxError, parseHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { HandleRecordDto } from '../identifiers/dto/handle-value.dto';
import { HandleRecordInput, HandleValueInput, INT32_MAX, handleRecordSchema } from '../identifiers/dto/handle-value.schema';
import { IdentifiersService } from '../identifiers/identifiers.service';
import { parseIdempotencyKey } from '../identifiers/idempotency.service';
import { listedIndexes } from '../identifiers/value-changes';
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

const indexesFromQuery = ({ value }: { value: unknown }) =>
  asArray({ value })?.map((v) => (typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v));

export class WriteQueryDto {
  @IsOptional() @IsIn(['true', 'false']) overwrite?: string;
  /** Handle API: add or replace only these values (repeatable), or `various`: those in the body. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => asArray({ value }))
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @Matches(/^(?:[1-9]\d{0,9}|various)$/, { each: true, message: 'each index must be an integer from 1 or "various"' })
  index?: string[];
  /** Handle API: the server appends a suffix to the path, which ends in its slash (`88.100.1000/`). */
  @IsOptional() @IsIn(['true', 'false']) mintNewSuffix?: string;
}

export class DeleteQueryDto {
  /** Handle API: delete only these values (repeatable); without it, the whole handle. */
  @IsOptional()
  @Transform(indexesFromQuery)
  @IsArray()
  @ArrayMaxSize(500)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  index?: number[];
}

/** The If-Match header carries the version read: `"3"` or `3`. */
function versionFrom(ifMatch: string | undefined): number | undefined {
  return ifMatchVersion(
    ifMatch,
    () =>
      new IdentifierError(
        IdentifierErrorCode.INVALID_VALUE,
        `If-Match must carry the identifier version, e.g. "3": an integer from 1 to ${INT32_MAX}`,
      ),
  );
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
  @ApiBasicAuth()
  @AcceptsBasicAuth()
  @RequireScopes('identifiers:write')
  @UseFilters(HandleApiErrorFilter)
  @ApiBody({ type: HandleRecordDto })
  @ApiOperation({
    summary: 'Create or replace a handle; If-Match: "<version>" for optimistic concurrency; Idempotency-Key for safe retries',
  })
  @ApiQuery({
    name: 'index',
    required: false,
    isArray: true,
    type: String,
    description: 'Add or replace only these values (repeatable; exactly the indexes of the values sent), or "various": the values sent',
  })
  @ApiQuery({
    name: 'overwrite',
    required: false,
    enum: ['true', 'false'],
    description: 'false: refuse an existing handle (101), or with index= an existing value (201)',
  })
  @ApiQuery({
    name: 'mintNewSuffix',
    required: false,
    enum: ['true', 'false'],
    description: 'true: the server appends a new suffix to the path given, e.g. PUT /api/handles/88.100.1000/?mintNewSuffix=true',
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
    const name = (req.handleName = joinPath(path));
    const expectedVersion = versionFrom(ifMatch);
    const values: HandleValueInput[] = body.values;
    const overwrite = query.overwrite !== 'false';
    const key = parseIdempotencyKey(idemKey);
    let outcome;
    if (query.mintNewSuffix === 'true') {
      if (query.index !== undefined) {
        throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'mintNewSuffix=true creates a handle: it takes no index=');
      }
      // Express drops the trailing slash from the wildcard; the Handle API's `{prefix}/` keeps it.
      const base = req.path.endsWith('/') && !name.endsWith('/') ? `${name}/` : name;
      outcome = await this.identifiers.mintRecord(actor, base, values, { expectedVersion, template: body.template ?? undefined }, key);
    } else if (query.index !== undefined) {
      if (body.template) {
        throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, "index= changes single values: they follow the handle's own template");
      }
      outcome = await this.identifiers.putValues(
        actor,
        this.parse(name),
        values,
        { indexes: listedIndexes(query.index), overwrite, expectedVersion },
        key,
      );
    } else {
      outcome = await this.identifiers.putRecord(
        actor,
        this.parse(name),
        values,
        { expectedVersion, overwrite, template: body.template ?? undefined },
        key,
      );
    }
    res.status(outcome.status);
    res.setHeader('ETag', `"${String(outcome.body.version)}"`);
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return outcome.body;
  }

  @Delete('*handle')
  @ApiBearerAuth()
  @ApiBasicAuth()
  @AcceptsBasicAuth()
  @RequireScopes('identifiers:write')
  @UseFilters(HandleApiErrorFilter)
  @ApiOperation({ summary: 'Delete a handle, or with index= only those values; If-Match and Idempotency-Key as for PUT' })
  @ApiQuery({
    name: 'index',
    required: false,
    isArray: true,
    type: Number,
    description: 'Delete only these values (repeatable); index 100, the server HS_ADMIN, goes only with the whole handle',
  })
  async remove(
    @Param('handle') path: string[] | string,
    @Query() query: DeleteQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('idempotency-key') idemKey: string | undefined,
    @CurrentPrincipal() actor: Principal,
    @Req() req: Request & { handleName?: string },
    @Res({ passthrough: true }) res: Response,
  ) {
    const handle = this.parse((req.handleName = joinPath(path)));
    const expectedVersion = versionFrom(ifMatch);
    const key = parseIdempotencyKey(idemKey);
    const outcome =
      query.index !== undefined
        ? await this.identifiers.deleteValues(actor, handle, query.index, expectedVersion, key)
        : await this.identifiers.deleteRecord(actor, handle, expectedVersion, key);
    res.status(outcome.status);
    // Values deleted: the handle lives on at a new version.
    if (typeof outcome.body.version === 'number') res.setHeader('ETag', `"${outcome.body.version}"`);
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
