import type { Metadata } from '@grpc/grpc-js';
import { IdentifierV1 } from '@iip/contracts';
import { unsafeStringReason } from '@iip/platform-errors';
import { GrpcUnaryFastPath } from '@iip/platform-grpc';
import { Metrics } from '@iip/platform-observability';
import { IdentifierGrpcController, resolveResponseOf } from './identifier.grpc-controller';
import { PublicAnswerEncoding, ResolutionService } from './resolution.service';

/** The method label GrpcObservabilityInterceptor gives the controller's Resolve calls. */
const RESOLVE_METHOD = `${IdentifierGrpcController.name}.${IdentifierGrpcController.prototype.resolve.name}`;

/**
 * The hot path of gRPC resolution, on the grpc-js server before Nest's pipeline: an anonymous,
 * unfiltered, non-authoritative Resolve of a record this instance holds in memory is answered
 * with its public values as ResolveResponse bytes encoded once per cached record, by the
 * server's own codec, from the answer the controller would give (resolveResponseOf). Every other
 * call goes on to the full pipeline, which answers it as before: a call with an authorization
 * token (the auth guard checks it, whatever the method), filters or `authoritative`, a handle the
 * input safety guard refuses (U+0000, lone surrogates; the server refused oversized messages
 * before either path), and anything not in this instance's memory, not hosted here, not a handle
 * or with nothing public. What it answers it counts as the interceptor does (OK) and in the
 * resolution statistics.
 */
export function grpcResolveFastPath(resolution: ResolutionService, metrics: Metrics): GrpcUnaryFastPath {
  const ok = metrics.grpcCalls.labels(RESOLVE_METHOD, 'OK');
  let serverEncode: (response: unknown) => Buffer = () => {
    throw new Error('no codec yet');
  };
  const encoding: PublicAnswerEncoding = {
    answers: new WeakMap(),
    encode: (answer) => serverEncode(resolveResponseOf(answer)),
  };
  return {
    path: IdentifierV1.IdentifierServiceService.resolve.path,
    answer(request: unknown, metadata: Metadata, encode: (response: unknown) => Buffer): Buffer | undefined {
      const { handle, types, indexes, authoritative } = request as Partial<IdentifierV1.ResolveRequest>;
      if (metadata.get('authorization').length !== 0) return undefined;
      if (types?.length || indexes?.length || authoritative !== false) return undefined;
      if (typeof handle !== 'string' || unsafeStringReason(handle) !== undefined) return undefined;
      serverEncode = encode;
      const answer = resolution.cachedPublicAnswerAs(handle, encoding);
      if (answer !== undefined) ok.inc();
      return answer;
    },
  };
}
