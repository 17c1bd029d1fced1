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
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { Observable, catchError, tap, throwError } from 'rxjs';
import { InputSafetyGuard, isDomainError, HttpProblemFilter, RequestValidationError } from '@iip/platform-errors';
import { AppLogger, LOGGER, Metrics, REQUEST_ID_HEADER, normaliseRequestId, runWithRequestContext } from '@iip/platform-observability';

export interface GrpcServerSettings {
  url: string;
  protoRoot: string;
  protoFiles: string[];
  packages: string[];
}

/** Options for a Nest gRPC microservice serving contracts from proto/. */
export function grpcServerOptions(settings: GrpcServerSettings): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      url: settings.url,
      package: settings.packages,
      protoPath: settings.protoFiles,
      loader: {
        includeDirs: [settings.protoRoot],
        keepCase: false,
        longs: String,
        enums: String,
        defaults: true,
        oneofs: true,
      },
      maxReceiveMessageLength: 4 * 1024 * 1024,
    },
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
