import { HttpException, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import {
  BasicAuthenticator,
  BasicCredentials,
  DUMMY_SECRET_HASH,
  Principal,
  TenantRef,
  basicUnauthenticated,
  isSecretHash,
  sourceOf,
  verifySecret,
} from '@iip/platform-auth';
import { problem } from '@iip/platform-errors';
import { FailedAttemptLimiter, Redis } from '@iip/platform-redis';
import { IdentifiersRepository } from '../identifiers/identifiers.repository';
import { IDENTIFIER_REDIS } from '../resolution/record-cache';
import { NODE_SETTINGS, NodeSettings } from '../prefixes/prefixes.service';
import { handlePublicKey, publicKeyVerifies } from '../native/native-auth';
import { HandleIdentity, decodeSecret, parseHandleIdentity, valueBytes } from './handle-identity';
import { HandleSessions, handleAuthParams } from './handle-sessions';

/** How long the principal of one request counts as valid (it is rebuilt, and checked, on every request). */
const PRINCIPAL_LIFETIME_SECONDS = 60;
const MAX_SECRET_LENGTH = 1_024;

/** The subject failures are counted under. */
export function identitySubject(identity: Pick<HandleIdentity, 'index' | 'key'>): string {
  return `${identity.index}:${identity.key}`;
}

/** Who a request authenticated as a handle identity is: its prefix's tenant, with identifiers:write only. */
export function identityPrincipal(identity: Pick<HandleIdentity, 'index' | 'handle'>, owner: TenantRef): Principal {
  const now = Math.floor(Date.now() / 1000);
  return {
    clientId: `handle:${identity.index}:${identity.handle}`,
    tenant: owner,
    scopes: new Set(['identifiers:write']),
    // Now: the revocation view refuses it while the owning tenant (or one above) is suspended.
    issuedAt: now,
    expiresAt: now + PRINCIPAL_LIFETIME_SECONDS,
    handleIdentity: { index: identity.index, handle: identity.handle },
  };
}

/**
 * Handle clients' `Authorization: Basic` with the user `index:handle` (percent-encoded) and the
 * secret key stored at that index as the password (the Handle REST API's secret-key
 * authentication). The identity acts for the tenant owning its handle's prefix, with
 * `identifiers:write`; which handles it may change the write itself checks (HS_ADMIN / HS_VLIST).
 */
@Injectable()
export class HandleIdentityAuthenticator extends BasicAuthenticator {
  /**
   * Failed handle-identity authentications, counted per identity and source address and per source
   * over all identities (IDENTIFIER_IDENTITY_MAX_FAILURES_*), shared by HTTP Basic, Handle sessions
   * and the native protocol's challenge–response: guessing over one door counts at the others.
   */
  readonly failures: FailedAttemptLimiter;

  /** The Handle REST API's sessions (`POST /api/sessions`), for public-key identities. */
  readonly sessions: HandleSessions;
  override readonly otherSchemes = ['handle'];

  constructor(
    private readonly identifiers: IdentifiersRepository,
    @Inject(IDENTIFIER_REDIS) redis: Redis,
    @Inject(NODE_SETTINGS) node: NodeSettings,
  ) {
    super();
    this.failures = new FailedAttemptLimiter(redis, 'handle-identity:failures', node.identityFailures);
    this.sessions = new HandleSessions(redis);
  }

  async authenticate(credentials: BasicCredentials, req: Request): Promise<Principal> {
    const res = req.res;
    const identity = parseHandleIdentity(credentials.user);
    if (typeof identity === 'string') throw basicUnauthenticated(`Not a handle identity: ${identity}`, res);
    const secret = decodeSecret(credentials.password);
    if (secret === undefined || secret.length > MAX_SECRET_LENGTH) {
      throw basicUnauthenticated('The secret key is not valid percent-encoding (or longer than 1024 characters)', res);
    }

    const source = sourceOf(req.ip ?? req.socket.remoteAddress);
    const subject = identitySubject(identity);
    await this.refuseWhenBlocked(source, subject, res);

    const stored = await this.identifiers.secretKeyOf(identity.key, identity.index);
    // Unknown identities, other types and plaintext keys of an older release check against a
    // dummy hash: the same cost as a wrong secret, and a plaintext key never authenticates.
    const hash = stored?.type === 'HS_SECKEY' && isSecretHash(stored.value) ? stored.value : undefined;
    const ok = await verifySecret(Buffer.from(secret, 'utf8'), hash ?? DUMMY_SECRET_HASH);
    if (!ok || hash === undefined || !stored?.owner) {
      await this.failures.record(source, subject);
      throw basicUnauthenticated('Handle identity authentication failed', res);
    }
    // The owner (or a tenant above it) is suspended: for as long as it lasts, not only within the token window.
    if (stored.ownerSuspended) throw basicUnauthenticated('The credentials may not act: their tenant is suspended', res);
    return identityPrincipal(identity, stored.owner);
  }

  /** 429 once an identity (or the source address) has failed too often this minute. */
  private async refuseWhenBlocked(source: string, subject: string, res: Request['res']): Promise<void> {
    if (!(await this.failures.blocked(source, subject))) return;
    res?.setHeader('Retry-After', String(FailedAttemptLimiter.WINDOW_SECONDS));
    throw new HttpException(
      { problem: problem(429, 'TOO_MANY_ATTEMPTS', 'Too many failed authentications from your address; try again in a minute') },
      429,
    );
  }

  /**
   * `Authorization: Handle version="0", sessionId="…"` (a session a signature authenticated), or
   * the same with `id="300:88.100.1000/ADMIN", type="HS_PUBKEY", cnonce="…", alg="SHA256",
   * signature="…"`: the identity's private key signed the session's nonce followed by the client's.
   */
  override async authenticateScheme(_scheme: string, params: string, req: Request): Promise<Principal> {
    const res = req.res;
    const p = handleAuthParams(params);
    if (!p?.sessionId)
      throw handleUnauthenticated('Authorization: Handle needs sessionId="…"; open a session with POST /api/sessions', res);
    const session = await this.sessions.find(p.sessionId);
    if (!session) throw handleUnauthenticated('The session is unknown or has expired; open one with POST /api/sessions', res);
    let identity = session.identity;
    if (p.signature !== undefined) {
      if (p.type !== 'HS_PUBKEY') {
        throw handleUnauthenticated('Sessions authenticate HS_PUBKEY identities; a secret key (HS_SECKEY) authenticates with Basic', res);
      }
      const named = parseHandleIdentity(p.id ?? '');
      if (typeof named === 'string') throw handleUnauthenticated(`Not a handle identity: ${named}`, res);
      const source = sourceOf(req.ip ?? req.socket.remoteAddress);
      const subject = identitySubject(named);
      await this.refuseWhenBlocked(source, subject, res);
      const stored = await this.identifiers.secretKeyOf(named.key, named.index);
      const key =
        stored?.type === 'HS_PUBKEY' && typeof stored.value === 'string'
          ? handlePublicKey(valueBytes(stored.format, stored.value))
          : undefined;
      const data = Buffer.concat([session.nonce, Buffer.from(p.cnonce ?? '', 'base64')]);
      const ok =
        key !== undefined && (p.cnonce ?? '') !== '' && publicKeyVerifies(key, data, p.alg ?? 'SHA256', Buffer.from(p.signature, 'base64'));
      if (!ok) {
        await this.failures.record(source, subject);
        throw handleUnauthenticated('Handle identity authentication failed', res);
      }
      identity = { index: named.index, handle: named.handle, key: named.key };
      await this.sessions.authenticated(session, identity);
    }
    if (!identity) throw handleUnauthenticated('The session is not authenticated: sign its nonce (POST /api/sessions/this)', res);
    // Checked on every request: the key may have been removed, the tenant suspended.
    const stored = await this.identifiers.secretKeyOf(identity.key, identity.index);
    if (stored?.type !== 'HS_PUBKEY' || !stored.owner)
      throw handleUnauthenticated('The identity of this session no longer has its key', res);
    if (stored.ownerSuspended) throw handleUnauthenticated('The credentials may not act: their tenant is suspended', res);
    return identityPrincipal(identity, stored.owner);
  }
}

/** The 401 of the Handle scheme: the challenge names it (clients open a session to get a nonce). */
function handleUnauthenticated(detail: string, res?: Request['res']): HttpException {
  const err = basicUnauthenticated(detail, res);
  res?.setHeader('WWW-Authenticate', ['Handle version="0"', 'Basic realm="iip", charset="UTF-8"']);
  return err;
}
