import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestValidationError, isDomainError, toProblem } from '@iip/platform-errors';
import { AppLogger, LOGGER } from '@iip/platform-observability';
import { HandleResponseCode, IdentifierError } from '../identifier.errors';

/**
 * Errors on /api/handles keep the Handle REST API's shape — a `responseCode` that existing
 * Handle clients read — alongside the RFC 7807 fields every IIP error carries.
 */
@Catch()
export class HandleApiErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    sendHandleError(
      host.switchToHttp().getResponse<ServerResponse>(),
      host.switchToHttp().getRequest<HandleRequest>(),
      exception,
      this.logger,
    );
  }
}

/** The request as the error writer needs it: Express's, or the bare one the fast path sees. */
export type HandleRequest = IncomingMessage & { originalUrl?: string; handleName?: string };

/** Writes an error in the Handle API's shape; shared by the filter and the resolution fast path. */
export function sendHandleError(res: ServerResponse, req: HandleRequest, exception: unknown, logger: AppLogger): void {
  const problem = toProblem(exception);
  if (problem.status >= 500 && !isDomainError(exception)) logger.error({ err: exception }, 'unhandled error on the Handle API');
  if (res.headersSent) return;
  const requestId = res.getHeader('x-request-id');
  const body = JSON.stringify({
    responseCode: handleCodeOf(exception, req.method ?? 'GET'),
    ...(req.handleName ? { handle: req.handleName } : {}),
    message: problem.detail ?? problem.title,
    ...problem,
    instance: req.originalUrl ?? req.url,
    ...(requestId ? { requestId: String(requestId) } : {}),
  });
  res.statusCode = problem.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

function handleCodeOf(err: unknown, method: string): number {
  if (err instanceof IdentifierError) return err.handleCode();
  if (isDomainError(err)) return HandleResponseCode.ERROR;
  if (err instanceof RequestValidationError) return method === 'GET' ? HandleResponseCode.INVALID_HANDLE : HandleResponseCode.INVALID_VALUE;
  if (err instanceof HttpException) {
    switch (err.getStatus()) {
      case 401:
        return HandleResponseCode.AUTHENTICATION_NEEDED;
      case 403:
        return HandleResponseCode.NOT_AUTHORIZED;
      default:
        return err.getStatus() < 500 ? HandleResponseCode.INVALID_VALUE : HandleResponseCode.ERROR;
    }
  }
  return HandleResponseCode.ERROR;
}
