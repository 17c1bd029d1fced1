import { RpcException } from '@nestjs/microservices';
import {
  Client,
  Metadata,
  Server,
  ServerCredentials,
  ServerUnaryCall,
  ServiceDefinition,
  ServiceError,
  credentials,
  sendUnaryData,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import { DomainError, RequestValidationError } from '@iip/platform-errors';
import { GrpcUnaryFastPath, installUnaryFastPaths, resolveGrpcPort, toRpcError } from './grpc';

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

describe('installUnaryFastPaths', () => {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const parse = (b: Buffer) => JSON.parse(b.toString()) as unknown;
  const method = (path: string, originalName: string) => ({
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: json,
    requestDeserialize: parse,
    responseSerialize: (v: unknown) => json({ encoded: v }),
    responseDeserialize: parse,
    originalName,
  });
  const service: ServiceDefinition = { Echo: method('/t.Svc/Echo', 'echo'), Other: method('/t.Svc/Other', 'other') };
  let server: Server;
  let client: Client;
  const full = jest.fn((call: ServerUnaryCall<{ say: string }, unknown>, callback: sendUnaryData<unknown>) => {
    if (call.request.say === 'fail') callback({ code: GrpcStatus.NOT_FOUND, details: 'not here' });
    else callback(null, { full: call.request.say });
  });
  const fastPath: GrpcUnaryFastPath = {
    path: '/t.Svc/Echo',
    answer: (request, metadata, encode) => {
      const { say } = request as { say: string };
      if (say === 'throw') throw new Error('boom');
      if (say !== 'fast' || metadata.get('authorization').length > 0) return undefined;
      return encode({ fast: say });
    },
  };
  const call = (path: string, say: string, metadata = new Metadata()) =>
    new Promise<unknown>((resolve, reject) =>
      client.makeUnaryRequest(path, json, parse, { say }, metadata, (err: ServiceError | null, value?: unknown) =>
        err ? reject(err) : resolve(value),
      ),
    );

  beforeAll(async () => {
    server = new Server();
    installUnaryFastPaths(server, [fastPath]);
    // As Nest adds them: keyed by the original (lower camel case) names.
    server.addService(service, { echo: full, other: full });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  afterAll(() => {
    client.close();
    server.forceShutdown();
  });
  beforeEach(() => full.mockClear());

  it("answers what the fast path answers with its bytes, encoded by the method's own codec", async () => {
    await expect(call('/t.Svc/Echo', 'fast')).resolves.toEqual({ encoded: { fast: 'fast' } });
    expect(full).not.toHaveBeenCalled();
  });

  it('hands everything else to the full handler, answers and errors alike', async () => {
    await expect(call('/t.Svc/Echo', 'slow')).resolves.toEqual({ encoded: { full: 'slow' } });
    const withToken = new Metadata();
    withToken.set('authorization', 'Bearer x');
    await expect(call('/t.Svc/Echo', 'fast', withToken)).resolves.toEqual({ encoded: { full: 'fast' } });
    await expect(call('/t.Svc/Echo', 'throw')).resolves.toEqual({ encoded: { full: 'throw' } });
    await expect(call('/t.Svc/Echo', 'fail')).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND, details: 'not here' });
    expect(full).toHaveBeenCalledTimes(4);
  });

  it('leaves the other methods alone', async () => {
    await expect(call('/t.Svc/Other', 'fast')).resolves.toEqual({ encoded: { full: 'fast' } });
    expect(full).toHaveBeenCalledTimes(1);
  });
});
