import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
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
      host.switchToHttp().getResponse<Response>(),
      host.switchToHttp().getRequest<Request & { handleName?: string }>(),
      exception,
      this.logger,
    );
  }
}

/** Writes an error in the Handle API's shape; shared by the filter and the anonymous fast path. */
export function sendHandleError(res: Response, req: Request & { handleName?: string }, exception: unknown, logger: AppLogger): void {
  const problem = toProblem(exception);
  if (problem.status >= 500 && !isDomainError(exception)) logger.error({ err: exception }, 'unhandled error on the Handle API');
  if (res.headersSent) return;
  const requestId = res.getHeader('x-request-id');
  res
    .status(problem.status)
    .type('application/json')
    .send(
      JSON.stringify({
        responseCode: handleCodeOf(exception, req.method),
        ...(req.handleName ? { handle: req.handleName } : {}),
        message: problem.detail ?? problem.title,
        ...problem,
        instance: req.originalUrl,
        ...(requestId ? { requestId: String(requestId) } : {}),
      }),
    );
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
