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
  // Every string the client or another node chose is written with its unsafe characters escaped.
  const body = JSON.stringify(
    {
      responseCode: handleCodeOf(exception, req.method ?? 'GET'),
      ...(req.handleName ? { handle: req.handleName } : {}),
      message: problem.detail ?? problem.title,
      ...problem,
      instance: req.originalUrl ?? req.url,
      ...(requestId ? { requestId: String(requestId) } : {}),
    },
    (_key, value: unknown) => (typeof value === 'string' ? escapeUnsafe(value) : value),
  );
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
      case 429: // too many failed authentications: no Handle code says so
        return HandleResponseCode.ERROR;
      case 404: // no such route under /api/: the Handle API's not found, as HTTP 404 goes with it
        return HandleResponseCode.HANDLE_NOT_FOUND;
      default:
        return err.getStatus() < 500 ? HandleResponseCode.INVALID_VALUE : HandleResponseCode.ERROR;
    }
  }
  return HandleResponseCode.ERROR;
}

/**
 * Characters the handle syntax refuses and an error must not repeat (README, Handle syntax):
 * C0/DEL/C1 controls, lone surrogates, U+FFFD, line and paragraph separators, bidirectional
 * embeddings, overrides and isolates, and noncharacters.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001F\u007F-\u009F\u2028-\u202E\u2066-\u2069\uFDD0-\uFDEF\uFFFD\uFFFE\uFFFF\uD800-\uDFFF]|[\u{1FFFE}\u{1FFFF}\u{2FFFE}\u{2FFFF}\u{3FFFE}\u{3FFFF}\u{4FFFE}\u{4FFFF}\u{5FFFE}\u{5FFFF}\u{6FFFE}\u{6FFFF}\u{7FFFE}\u{7FFFF}\u{8FFFE}\u{8FFFF}\u{9FFFE}\u{9FFFF}\u{AFFFE}\u{AFFFF}\u{BFFFE}\u{BFFFF}\u{CFFFE}\u{CFFFF}\u{DFFFE}\u{DFFFF}\u{EFFFE}\u{EFFFF}\u{FFFFE}\u{FFFFF}\u{10FFFE}\u{10FFFF}]/gu;

/** `text` with each unsafe character written as the six characters `\u202E` (`\u{1FFFE}` above U+FFFF). */
export function escapeUnsafe(text: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (ch) => {
    const cp = ch.codePointAt(0) as number;
    const hex = cp.toString(16).toUpperCase();
    return cp > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
  });
}
