import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { Observable, map } from 'rxjs';
import { IdentifierV1 } from '@iip/contracts';
import { OptionalAuth, RequireScopes, optionalPrincipalOf, principalOf } from '@iip/platform-auth';
import { HandleResponseCode, IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { BatchRegistrationService } from '../identifiers/batch-registration.service';
import { IdentifierQueriesService } from '../identifiers/identifier-queries.service';
import { IdentifiersService } from '../identifiers/identifiers.service';
import { ChangeWatchService } from './change-watch.service';
import { parseIdempotencyKey } from '../identifiers/idempotency.service';
import { listedIndexes } from '../identifiers/value-changes';
import { expectedVersionFromGrpc, handleFromGrpc, templateFromGrpc, valuesFromGrpc } from './grpc-input';
import { Resolution, ResolutionService } from './resolution.service';

const pageLimit = (limit: number) => {
  if (limit < 0 || limit > 200) throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'limit must be 0..200');
  return limit || undefined;
};

/** A resolution as the gRPC answer (the controller's and the gRPC fast path's alike). */
export function resolveResponseOf(result: Pick<Resolution, 'responseCode' | 'handle' | 'values'>): IdentifierV1.ResolveResponse {
  return {
    responseCode: result.responseCode,
    handle: result.handle,
    values: result.values.map((v) => ({
      index: v.index,
      type: v.type,
      format: v.data.format,
      valueJson: JSON.stringify(v.data.value),
      ttl: v.ttl,
      timestamp: v.timestamp,
    })),
  };
}

/** gRPC adapter: translates messages and calls the same services as the REST API. */
@Controller()
@IdentifierV1.IdentifierServiceControllerMethods()
export class IdentifierGrpcController implements IdentifierV1.IdentifierServiceController {
  constructor(
    private readonly resolution: ResolutionService,
    private readonly identifiers: IdentifiersService,
    private readonly batch: BatchRegistrationService,
    private readonly queries: IdentifierQueriesService,
    private readonly watches: ChangeWatchService,
  ) {}

  @OptionalAuth()
  async resolve(request: IdentifierV1.ResolveRequest, metadata: Metadata): Promise<IdentifierV1.ResolveResponse> {
    const result = await this.resolution.resolve(
      optionalPrincipalOf(metadata),
      request.handle,
      { types: request.types, indexes: request.indexes },
      request.authoritative,
    );
    return resolveResponseOf(result);
  }

  @RequireScopes('identifiers:write')
  async register(request: IdentifierV1.RegisterRequest, metadata: Metadata): Promise<IdentifierV1.WriteResponse> {
    const handle = handleFromGrpc(request.handle);
    const outcome = await this.identifiers.putRecord(
      principalOf(metadata),
      handle,
      valuesFromGrpc(request.values),
      { overwrite: false, template: templateFromGrpc(request.template) },
      parseIdempotencyKey(request.idempotencyKey),
    );
    return { responseCode: HandleResponseCode.SUCCESS, handle: handle.handle, version: Number(outcome.body.version) };
  }

  @RequireScopes('identifiers:write')
  async batchRegister(request: IdentifierV1.BatchRegisterRequest, metadata: Metadata): Promise<IdentifierV1.BatchRegisterResponse> {
    if (request.items.length === 0 || request.items.length > 5000)
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'Send 1 to 5,000 items');
    const items = request.items.map((i) => ({
      handle: i.handle,
      values: valuesFromGrpc(i.values),
      template: templateFromGrpc(i.template),
    }));
    const outcome = await this.batch.register(principalOf(metadata), items, parseIdempotencyKey(request.idempotencyKey));
    const body = outcome.body as {
      created: number;
      failed: number;
      results: { handle: string; status: string; responseCode: number; error?: { code: string; message: string } }[];
    };
    return {
      created: body.created,
      failed: body.failed,
      results: body.results.map((r) => ({
        handle: r.handle,
        created: r.status === 'created',
        responseCode: r.responseCode,
        errorCode: r.error?.code ?? '',
        message: r.error?.message ?? '',
      })),
    };
  }

  @RequireScopes('identifiers:write')
  async update(request: IdentifierV1.UpdateRequest, metadata: Metadata): Promise<IdentifierV1.WriteResponse> {
    const handle = handleFromGrpc(request.handle);
    if (request.indexes.length > 0) {
      if (request.template) {
        throw new IdentifierError(
          IdentifierErrorCode.INVALID_VALUE,
          'template applies to a whole-record update; leave indexes empty to set it',
        );
      }
      const changed = await this.identifiers.putValues(
        principalOf(metadata),
        handle,
        valuesFromGrpc(request.values),
        {
          indexes: listedIndexes(request.indexes.map(String)),
          overwrite: true,
          expectedVersion: expectedVersionFromGrpc(request.expectedVersion),
        },
        parseIdempotencyKey(request.idempotencyKey),
      );
      return { responseCode: HandleResponseCode.SUCCESS, handle: handle.handle, version: Number(changed.body.version) };
    }
    const outcome = await this.identifiers.putRecord(
      principalOf(metadata),
      handle,
      valuesFromGrpc(request.values),
      {
        overwrite: true,
        mustExist: true,
        expectedVersion: expectedVersionFromGrpc(request.expectedVersion),
        template: templateFromGrpc(request.template),
      },
      parseIdempotencyKey(request.idempotencyKey),
    );
    return { responseCode: HandleResponseCode.SUCCESS, handle: handle.handle, version: Number(outcome.body.version) };
  }

  @RequireScopes('identifiers:write')
  async delete(request: IdentifierV1.DeleteRequest, metadata: Metadata): Promise<IdentifierV1.WriteResponse> {
    const handle = handleFromGrpc(request.handle);
    if (request.indexes.length > 0) {
      const removed = await this.identifiers.deleteValues(
        principalOf(metadata),
        handle,
        listedIndexes(request.indexes.map(String)) as number[], // numbers only: never 'various'
        expectedVersionFromGrpc(request.expectedVersion),
        parseIdempotencyKey(request.idempotencyKey),
      );
      return { responseCode: HandleResponseCode.SUCCESS, handle: handle.handle, version: Number(removed.body.version) };
    }
    await this.identifiers.deleteRecord(
      principalOf(metadata),
      handle,
      expectedVersionFromGrpc(request.expectedVersion),
      parseIdempotencyKey(request.idempotencyKey),
    );
    return { responseCode: HandleResponseCode.SUCCESS, handle: handle.handle, version: 0 };
  }

  async list(request: IdentifierV1.ListRequest, metadata: Metadata): Promise<IdentifierV1.ListResponse> {
    const page = await this.queries.listByPrefix(
      principalOf(metadata),
      request.prefix,
      pageLimit(request.limit),
      request.cursor || undefined,
    );
    return { handles: page.items.map((i) => i.handle), nextCursor: page.nextCursor ?? '' };
  }

  @OptionalAuth()
  async reverseLookup(request: IdentifierV1.ReverseLookupRequest, metadata: Metadata): Promise<IdentifierV1.ListResponse> {
    const page = await this.queries.reverseLookup(
      optionalPrincipalOf(metadata),
      request.type,
      request.value,
      pageLimit(request.limit),
      request.cursor || undefined,
    );
    return { handles: page.items.map((i) => i.handle), nextCursor: page.nextCursor ?? '' };
  }

  watchChanges(request: IdentifierV1.WatchChangesRequest, metadata: Metadata): Observable<IdentifierV1.IdentifierChange> {
    return this.watches
      .watch(principalOf(metadata), request.prefix)
      .pipe(map((c) => ({ handle: c.handle, change: c.change, version: c.version, time: c.time })));
  }
}
