import { JWTPayload, JWTVerifyGetKey, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, Principal, TENANT_KINDS, TenantKind } from './principal';
import { RevocationView } from './revocation-view';

export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export interface TokenVerifierOptions {
  issuer: string;
  /** Resolves the verification key for a token header (JWKS). */
  keys: JWTVerifyGetKey;
  clockToleranceSec?: number;
  /** Revoked clients and suspended tenants (fed by tenancy's events): their tokens are refused. */
  revocations?: RevocationView;
}

/**
 * Verifies IIP access tokens locally. Successful verifications are remembered until the
 * token expires (bounded size), so a client reusing its token pays for the signature check once;
 * the revocation view is asked on every call, cached or not, so a remembered verdict never
 * outlives a revocation.
 */
export class TokenVerifier {
  private readonly cache = new Map<string, Principal>();
  private static readonly CACHE_LIMIT = 10_000;

  constructor(private readonly options: TokenVerifierOptions) {}

  /** Verifier that fetches a remote JWKS, caches it, and refetches when an unknown key id appears (rotation). */
  static remote(jwksUrl: string, issuer: string, revocations?: RevocationView): TokenVerifier {
    const keys = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
    return new TokenVerifier({ issuer, keys, revocations });
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.expiresAt * 1000 > Date.now()) return this.notRevoked(cached);
      this.cache.delete(token);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.options.keys, {
        issuer: this.options.issuer,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: ['ES256'],
        clockTolerance: this.options.clockToleranceSec ?? 5,
        requiredClaims: ['exp', 'sub', 'iat'],
      }));
    } catch (err) {
      throw new InvalidTokenError(describeJoseError(err));
    }
    const principal = this.notRevoked(toPrincipal(payload));
    if (this.cache.size >= TokenVerifier.CACHE_LIMIT) {
      // Map keeps insertion order: drop the oldest entry.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, principal);
    return principal;
  }

  /**
   * Why a principal verified earlier may no longer act (revoked, suspended, expired), or
   * undefined: for what outlives one request, such as a stream opened with the token.
   */
  noLongerValid(principal: Principal, nowMs = Date.now()): string | undefined {
    if (principal.expiresAt * 1000 <= nowMs) return 'the token has expired';
    if (this.options.revocations?.isRevoked(principal)) return 'the token was revoked (its client was revoked or its tenant suspended)';
    return undefined;
  }

  private notRevoked(principal: Principal): Principal {
    if (this.options.revocations?.isRevoked(principal)) {
      throw new InvalidTokenError('the token was revoked (its client was revoked or its tenant suspended)');
    }
    return principal;
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token was not signed by a known key';
  if (err instanceof errors.JWTClaimValidationFailed) return `the token claim "${err.claim}" is not valid`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not allowed';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'the token is malformed';
  if (err instanceof errors.JOSEError) return 'the token could not be verified';
  return 'the token could not be verified';
}

function toPrincipal(payload: JWTPayload): Principal {
  const { sub, scope, tid, tkind, tpath, exp, iat, jti } = payload as JWTPayload & Record<string, unknown>;
  if (typeof sub !== 'string' || typeof tid !== 'string' || typeof scope !== 'string') {
    throw new InvalidTokenError('the token lacks its tenant or scope claims');
  }
  if (!TENANT_KINDS.includes(tkind as TenantKind)) throw new InvalidTokenError('the token names an unknown tenant kind');
  if (!Array.isArray(tpath) || !tpath.every((p) => typeof p === 'string') || tpath[tpath.length - 1] !== tid) {
    throw new InvalidTokenError('the token tenant path is not valid');
  }
  return {
    clientId: sub,
    tenant: { id: tid, kind: tkind as TenantKind, path: tpath },
    scopes: new Set(scope.split(' ').filter(Boolean)),
    tokenId: typeof jti === 'string' ? jti : undefined,
    // jose has checked that iat is a number (a required claim).
    issuedAt: iat,
    expiresAt: exp as number,
  };
}
