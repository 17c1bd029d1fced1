import { RpcException } from '@nestjs/microservices';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, RequestValidationError } from '@iip/platform-errors';
import { resolveGrpcPort, toRpcError } from './grpc';

class Conflict extends DomainError<'VERSION_CONFLICT'> {
  httpStatus() {
    return 409;
  }
  grpcStatus() {
    return GrpcStatus.ABORTED;
  }
  kafkaDisposition() {
    return 'retry' as const;
  }
}

describe('toRpcError', () => {
  it('uses the domain error mapping and keeps the code in the message', () => {
    expect(toRpcError(new Conflict('VERSION_CONFLICT', 'stale'))).toEqual({ code: GrpcStatus.ABORTED, message: 'VERSION_CONFLICT: stale' });
  });
  it('maps validation failures to INVALID_ARGUMENT', () => {
    expect(toRpcError(new RequestValidationError([{ field: 'tenant_id', message: 'must be a UUID' }])).code).toBe(
      GrpcStatus.INVALID_ARGUMENT,
    );
  });
  it('passes explicit RPC errors through', () => {
    expect(toRpcError(new RpcException({ code: GrpcStatus.UNAUTHENTICATED, message: 'no token' }))).toEqual({
      code: GrpcStatus.UNAUTHENTICATED,
      message: 'no token',
    });
  });
  it('never leaks an internal message', () => {
    expect(toRpcError(new Error('db password is x'))).toEqual({ code: GrpcStatus.INTERNAL, message: 'internal error' });
  });
});

describe('resolveGrpcPort', () => {
  it('keeps a configured port and finds a free one for 0', async () => {
    await expect(resolveGrpcPort('127.0.0.1', 50100)).resolves.toBe(50100);
    const port = await resolveGrpcPort('127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
  });
});
