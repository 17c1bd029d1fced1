import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { isDomainError } from './domain-error';
import { PROBLEM_CONTENT_TYPE, ProblemDetails, problem } from './problem';
import { RequestValidationError } from './validation';

interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/** Turns anything thrown while serving HTTP into RFC 7807 problem+json. */
export function toProblem(err: unknown): ProblemDetails {
  if (isDomainError(err)) {
    return problem(err.httpStatus(), err.code, err.message, err.details ? { details: err.details } : {});
  }
  if (err instanceof RequestValidationError) {
    return problem(400, 'VALIDATION_FAILED', err.message, { errors: err.fieldErrors });
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const extra =
      typeof response === 'object' && response !== null && 'problem' in response
        ? (response as { problem: Partial<ProblemDetails> }).problem
        : {};
    return { ...problem(status, httpCode(status), err.message), ...extra };
  }
  const bodyError = bodyParserProblem(err);
  if (bodyError) return bodyError;
  return problem(500, 'INTERNAL', 'An unexpected error occurred');
}

function httpCode(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'TOO_MANY_REQUESTS';
    default:
      return status >= 500 ? 'INTERNAL' : 'REQUEST_REJECTED';
  }
}

/** body-parser reports its failures as errors with a `type` and a 4xx `status`. */
function bodyParserProblem(err: unknown): ProblemDetails | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  switch (e.type) {
    case 'entity.parse.failed':
      return problem(400, 'MALFORMED_BODY', 'The request body is not valid JSON');
    case 'json.too.deep':
      return problem(400, 'BODY_TOO_DEEP', e.message);
    case 'entity.too.large':
      return problem(413, 'PAYLOAD_TOO_LARGE', `The request body exceeds the limit of ${e.limit} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problem(415, 'UNSUPPORTED_MEDIA_TYPE', e.message);
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return problem(400, 'BAD_REQUEST', e.message);
    case undefined:
    default:
      return typeof e.status === 'number' && e.status >= 400 && e.status < 500
        ? problem(e.status, httpCode(e.status), e.message)
        : undefined;
  }
}

export function sendProblem(res: Response, req: Request, body: ProblemDetails): void {
  const requestId = res.getHeader('x-request-id');
  const withContext: ProblemDetails = { ...body, instance: req.originalUrl, ...(requestId ? { requestId: String(requestId) } : {}) };
  if (body.status === 401 && !res.getHeader('www-authenticate')) {
    res.setHeader('WWW-Authenticate', 'Bearer');
  }
  res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(withContext));
}

@Catch()
export class HttpProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: ErrorLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const body = toProblem(exception);
    if (body.status >= 500 && !isDomainError(exception)) this.logger.error({ err: exception }, 'unhandled error while serving HTTP');
    if (res.headersSent) return;
    if (isDomainError(exception) && exception.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(exception.retryAfterSeconds))));
    }
    sendProblem(res, req, body);
  }
}

/** Express error middleware for failures before Nest's router (body parsing). */
export function expressProblemHandler(logger: ErrorLogger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const body = toProblem(err);
    if (body.status >= 500) logger.error({ err }, 'unhandled error before routing');
    sendProblem(res, req, body);
  };
}
