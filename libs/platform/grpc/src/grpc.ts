import {
  ArgumentsHost,
  CallHandler,
  Catch,
  ExceptionFilter,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  Provider,
  RpcExceptionFilter,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { GrpcOptions, RpcException, Transport } from '@nestjs/microservices';
import {
  Metadata,
  MethodDefinition,
  Server,
  ServiceDefinition,
  UntypedServiceImplementation,
  handleUnaryCall,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import { Observable, catchError, tap, throwError } from 'rxjs';
import { InputSafetyGuard, isDomainError, HttpProblemFilter, RequestValidationError } from '@iip/platform-errors';
import { AppLogger, LOGGER, Metrics, REQUEST_ID_HEADER, normaliseRequestId, runWithRequestContext } from '@iip/platform-observability';

export interface GrpcServerSettings {
  url: string;
  protoRoot: string;
  protoFiles: string[];
  packages: string[];
  /** Unary methods the grpc-js server answers itself, before Nest's pipeline, when it can (see {@link GrpcUnaryFastPath}). */
  unaryFastPaths?: GrpcUnaryFastPath[];
}

/** A service's gRPC server as it describes it; the runtime adds the address (ServeOptions.grpc). */
export type GrpcServeSettings = Omit<GrpcServerSettings, 'url'>;

/**
 * A unary method answered on the bare grpc-js server, before Nest's guards, interceptors, pipes
 * and controller, for the calls it can answer exactly as they would: those it cannot it hands on
 * (undefined), and the full pipeline answers them. It counts what it answers itself.
 */
export interface GrpcUnaryFastPath {
  /** The method as grpc-js routes it: `/package.Service/Method`. */
  readonly path: string;
  /**
   * The answer to this call as the response message's bytes — `encode` is the server's own codec
   * for that message, so the bytes are what the full pipeline's answer would be encoded to — or
   * undefined to hand the call on. Synchronous; a throw hands the call on too.
   */
  answer(request: unknown, metadata: Metadata, encode: (response: unknown) => Buffer): Buffer | undefined;
}

/** How every service's gRPC server loads proto/ (@grpc/proto-loader options, the include directory aside). */
export const GRPC_LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** The largest gRPC message a server accepts; grpc-js refuses a bigger one (RESOURCE_EXHAUSTED) before any handler. */
export const GRPC_MAX_RECEIVE_MESSAGE_LENGTH = 4 * 1024 * 1024;

/** Options for a Nest gRPC microservice serving contracts from proto/. */
export function grpcServerOptions(settings: GrpcServerSettings): GrpcOptions {
  const fastPaths = settings.unaryFastPaths ?? [];
  return {
    transport: Transport.GRPC,
    options: {
      url: settings.url,
      package: settings.packages,
      protoPath: settings.protoFiles,
      loader: { includeDirs: [settings.protoRoot], ...GRPC_LOADER_OPTIONS },
      maxReceiveMessageLength: GRPC_MAX_RECEIVE_MESSAGE_LENGTH,
      // Nest hands over its grpc-js server here, before it adds the services.
      ...(fastPaths.length > 0
        ? { onLoadPackageDefinition: (_pkg: unknown, server: Server) => installUnaryFastPaths(server, fastPaths) }
        : {}),
    },
  };
}

/**
 * Puts the fast paths in front of the handlers Nest adds to `server`: for each fast path's
 * method, the handler asks the fast path first and calls Nest's only when it hands the call on;
 * the method's response codec passes the fast path's bytes through as they are. Methods Nest
 * does not serve, and streaming ones, are left as they are.
 */
export function installUnaryFastPaths(server: Server, fastPaths: GrpcUnaryFastPath[]): void {
  const byPath = new Map(fastPaths.map((f) => [f.path, f]));
  const addService = server.addService.bind(server);
  server.addService = (service: ServiceDefinition, implementation: UntypedServiceImplementation) => {
    const ownService: Record<string, MethodDefinition<unknown, unknown>> = { ...service };
    const ownImplementation: UntypedServiceImplementation = { ...implementation };
    for (const [name, method] of Object.entries(service)) {
      const fastPath = byPath.get(method.path);
      if (!fastPath || method.requestStream || method.responseStream) continue;
      // grpc-js looks a handler up by the definition's key, then by the method's original name.
      const full = (implementation[name] ?? (method.originalName ? implementation[method.originalName] : undefined)) as
        handleUnaryCall<unknown, unknown> | undefined;
      if (!full) continue;
      const encode = method.responseSerialize as (response: unknown) => Buffer;
      ownService[name] = { ...method, responseSerialize: (response: unknown) => (Buffer.isBuffer(response) ? response : encode(response)) };
      const handler: handleUnaryCall<unknown, unknown> = (call, callback) => {
        let answer: Buffer | undefined;
        try {
          answer = fastPath.answer(call.request, call.metadata, encode);
        } catch {
          answer = undefined;
        }
        if (answer === undefined) return full.call(implementation, call, callback);
        callback(null, answer);
      };
      ownImplementation[name] = handler;
    }
    addService(ownService, ownImplementation);
  };
}

interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/** Maps what a gRPC handler throws to a status code; never leaks an internal message. */
export function toRpcError(err: unknown): { code: GrpcStatus; message: string } {
  if (err instanceof RpcException) {
    const e = err.getError();
    if (typeof e === 'object' && e !== null && 'code' in e) return e as { code: GrpcStatus; message: string };
    return { code: GrpcStatus.UNKNOWN, message: typeof e === 'string' ? e : 'unknown error' };
  }
  if (isDomainError(err)) return { code: err.grpcStatus(), message: `${err.code}: ${err.message}` };
  if (err instanceof RequestValidationError) {
    return { code: GrpcStatus.INVALID_ARGUMENT, message: err.fieldErrors.map((f) => `${f.field}: ${f.message}`).join('; ') };
  }
  return { code: GrpcStatus.INTERNAL, message: 'internal error' };
}

@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: ErrorLogger) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    if (host.getType() !== 'rpc') throw exception;
    const mapped = toRpcError(exception);
    if (mapped.code === GrpcStatus.INTERNAL) this.logger.error({ err: exception }, 'unhandled error while serving gRPC');
    return throwError(() => mapped);
  }
}

/** Carries x-request-id from gRPC metadata through the call and counts calls by status code. */
@Injectable()
export class GrpcObservabilityInterceptor implements NestInterceptor {
  constructor(private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext<Metadata>();
    const requestId = normaliseRequestId(metadata.get(REQUEST_ID_HEADER)[0]);
    const method = `${context.getClass().name}.${context.getHandler().name}`;
    return new Observable((subscriber) =>
      runWithRequestContext(requestId, () =>
        next
          .handle()
          .pipe(
            tap(() => this.metrics.grpcCalls.inc({ method, code: 'OK' })),
            catchError((err: unknown) => {
              this.metrics.grpcCalls.inc({ method, code: GrpcStatus[toRpcError(err).code] ?? 'UNKNOWN' });
              return throwError(() => err);
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }
}

/**
 * One filter for both transports (a hybrid app has a single global filter chain): HTTP gets
 * problem+json, gRPC gets a status code.
 */
@Catch()
export class TransportErrorFilter implements ExceptionFilter {
  private readonly http: HttpProblemFilter;
  private readonly rpc: GrpcErrorFilter;

  constructor(@Inject(LOGGER) logger: AppLogger) {
    this.http = new HttpProblemFilter(logger);
    this.rpc = new GrpcErrorFilter(logger);
  }

  catch(exception: unknown, host: ArgumentsHost): unknown {
    return host.getType() === 'rpc' ? this.rpc.catch(exception, host) : this.http.catch(exception, host);
  }
}

/**
 * Global enhancers every service installs, for HTTP and gRPC alike: unsafe strings refused,
 * error mapping and gRPC observability. (DTO validation is installed by setupHttp.)
 */
export const platformEnhancers: Provider[] = [
  { provide: APP_GUARD, useClass: InputSafetyGuard },
  { provide: APP_FILTER, useClass: TransportErrorFilter },
  { provide: APP_INTERCEPTOR, useClass: GrpcObservabilityInterceptor },
];

/**
 * Port 0 means "any free port" (tests). Nest's gRPC server does not report the port it bound,
 * so pick a free one up front and bind to that.
 */
export async function resolveGrpcPort(host: string, port: number): Promise<number> {
  if (port !== 0) return port;
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
