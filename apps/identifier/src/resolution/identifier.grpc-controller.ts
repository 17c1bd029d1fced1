import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { IdentifierV1 } from '@iip/contracts';
import { OptionalAuth, optionalPrincipalOf } from '@iip/platform-auth';
import { HandleResponseCode } from '../identifier.errors';
import { ResolutionService } from './resolution.service';

/** gRPC adapter: the same resolution as GET /api/handles/{handle}. */
@Controller()
@IdentifierV1.IdentifierServiceControllerMethods()
export class IdentifierGrpcController implements IdentifierV1.IdentifierServiceController {
  constructor(private readonly resolution: ResolutionService) {}

  @OptionalAuth()
  async resolve(request: IdentifierV1.ResolveRequest, metadata: Metadata): Promise<IdentifierV1.ResolveResponse> {
    const result = await this.resolution.resolve(optionalPrincipalOf(metadata), request.handle, {
      types: request.types,
      indexes: request.indexes,
    });
    return {
      responseCode: HandleResponseCode.SUCCESS,
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
}
