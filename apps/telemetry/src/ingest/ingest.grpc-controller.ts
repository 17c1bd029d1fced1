import { Controller } from '@nestjs/common';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { Observable, concatMap, from, map } from 'rxjs';
import { TelemetryV1 } from '@iip/contracts';
import { RequireScopes, principalOf } from '@iip/platform-auth';
import { isDomainError, parseBoundedJson } from '@iip/platform-errors';
import { TelemetryScopes } from '../scopes';
import { IngestService } from './ingest.service';
import { RefusedValue } from './points';

const refusedMessage = (r: RefusedValue): TelemetryV1.RefusedValue => ({ index: r.index, property: r.property ?? '', reason: r.reason });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** gRPC adapter: a stream of batches, each acknowledged in order once Kafka holds it (work on a batch starts as it arrives). */
@Controller()
@TelemetryV1.TelemetryServiceControllerMethods()
export class IngestGrpcController implements TelemetryV1.TelemetryServiceController {
  constructor(private readonly service: IngestService) {}

  @RequireScopes(TelemetryScopes.TelemetryWrite)
  ingest(batches: Observable<TelemetryV1.IngestBatch>, metadata: Metadata): Observable<TelemetryV1.IngestAck> {
    const actor = principalOf(metadata);
    return batches.pipe(
      map((b) => this.one(actor, b)),
      concatMap((pending) => from(pending)),
    );
  }

  private async one(actor: ReturnType<typeof principalOf>, b: TelemetryV1.IngestBatch): Promise<TelemetryV1.IngestAck> {
    const ack = {
      sequence: b.sequence,
      code: GrpcStatus.OK,
      message: '',
      accepted: 0,
      refused: [] as TelemetryV1.RefusedValue[],
      retryAfterSeconds: 0,
    };
    try {
      if (!UUID.test(b.deviceId)) return { ...ack, code: GrpcStatus.INVALID_ARGUMENT, message: 'device_id must be a UUID' };
      let points: unknown;
      try {
        points = parseBoundedJson(b.pointsJson);
      } catch {
        return { ...ack, code: GrpcStatus.INVALID_ARGUMENT, message: 'points_json is not JSON (or is nested too deeply)' };
      }
      const result = await this.service.ingest({ principal: actor }, b.deviceId.toLowerCase(), points);
      return {
        ...ack,
        accepted: result.accepted,
        refused: result.refused.map(refusedMessage),
      };
    } catch (err) {
      if (!isDomainError(err)) return { ...ack, code: GrpcStatus.INTERNAL, message: 'the batch could not be handled' };
      const refused = (err.details?.refused as RefusedValue[] | undefined) ?? [];
      return {
        ...ack,
        code: err.grpcStatus(),
        message: err.message,
        refused: refused.map(refusedMessage),
        retryAfterSeconds: err.retryAfterSeconds ?? 0,
      };
    }
  }
}
