import { SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { Principal } from './principal';

export const ACCEPTS_BASIC_AUTH = 'iip:accepts-basic-auth';

/**
 * The route also accepts `Authorization: Basic`, checked by the service's {@link BasicAuthenticator}
 * (e.g. Handle clients authenticating as a handle identity); bearer tokens keep working beside it.
 */
export const AcceptsBasicAuth = () => SetMetadata(ACCEPTS_BASIC_AUTH, true);

/** The user and password of an `Authorization: Basic` header (RFC 7617), as sent. */
export interface BasicCredentials {
  user: string;
  password: string;
}

/**
 * A service's check of Basic credentials, consulted by the AuthGuard on @AcceptsBasicAuth()
 * routes. It answers with the principal the credentials act as, or throws the HTTP error to send.
 */
export abstract class BasicAuthenticator {
  abstract authenticate(credentials: BasicCredentials, req: Request): Promise<Principal>;

  /**
   * Further `Authorization` schemes these routes take (lower case), e.g. the Handle REST API's
   * `Handle` challenge–response; the guard hands such a header to {@link authenticateScheme}.
   */
  readonly otherSchemes: readonly string[] = [];

  /** The principal an `Authorization: <scheme> <params>` header of {@link otherSchemes} acts as, or the HTTP error to send. */
  authenticateScheme(scheme: string, _params: string, _req: Request): Promise<Principal> {
    return Promise.reject(new Error(`Authorization scheme ${scheme} is not handled`));
  }
}

/** The scheme and parameters of an Authorization header (`Handle version="0", …` → ['handle', 'version="0", …']). */
export function authorizationScheme(header: string | undefined): { scheme: string; params: string } | undefined {
  const match = header === undefined ? null : /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+([\s\S]*))?$/.exec(header.trim());
  return match ? { scheme: match[1].toLowerCase(), params: match[2] ?? '' } : undefined;
}

/**
 * The credentials of a Basic header; undefined when the header is not Basic. A Basic header that
 * does not decode to `user:password` is 'malformed'. The user ends at the first colon (RFC 7617:
 * a user-id holds none, which is why Handle clients percent-encode theirs).
 */
export function basicCredentialsFrom(header: string | undefined): BasicCredentials | 'malformed' | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic(?:\s+(\S*))?\s*$/i.exec(header);
  if (!match) return undefined;
  const encoded = match[1] ?? '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return 'malformed';
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return 'malformed';
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
