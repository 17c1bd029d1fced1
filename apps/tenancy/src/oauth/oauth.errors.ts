import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';

/** RFC 6749 §5.2 error codes for the token endpoint. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'temporarily_unavailable';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : error === 'temporarily_unavailable' ? 429 : 400,
    readonly usedBasicAuth = false,
  ) {
    super(description);
  }
}

/** The token endpoint answers errors as RFC 6749 JSON, not problem+json, so OAuth clients understand them. */
@Catch(OAuthError)
export class OAuthErrorFilter implements ExceptionFilter {
  catch(err: OAuthError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    if (err.status === 401) res.setHeader('WWW-Authenticate', err.usedBasicAuth ? 'Basic realm="iip"' : 'Bearer');
    if (err.status === 429) res.setHeader('Retry-After', '60');
    res.status(err.status).json({ error: err.error, error_description: err.description });
  }
}

/**
 * What the token endpoint answers when its request fails before routing (media type, body
 * parsing, size): RFC 6749's `invalid_request`, never problem+json a client cannot read.
 */
export function sendOAuthPreRoutingError(_req: Request, res: Response, err: unknown): void {
  const e = err as { status?: number; message?: string };
  const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 400;
  const description =
    status === 415
      ? 'The token request must be application/x-www-form-urlencoded (RFC 6749 §4.4.2)'
      : 'The token request body cannot be read';
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.status(status === 413 ? 413 : 400).json({ error: 'invalid_request', error_description: description });
}
