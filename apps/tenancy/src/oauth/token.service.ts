import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, DUMMY_SECRET_HASH, sourceOf, verifySecret } from '@iip/platform-auth';
import { FailedAttemptLimiter, Redis } from '@iip/platform-redis';
import { TenantsRepository } from '../tenants/tenants.repository';
import { ClientsRepository } from './clients.repository';
import { OAuthError } from './oauth.errors';
import { KEY_SETTINGS, KeySettings, SIGNING_ALG, SigningKeysService } from './signing-keys.service';

export const TOKEN_SETTINGS = Symbol('TOKEN_SETTINGS');
export const TENANCY_REDIS = Symbol('TENANCY_REDIS');

export interface TokenSettings {
  issuer: string;
  /** Failed client authentications allowed per client and source address per minute before answering 429. */
  maxFailuresPerMinute: number;
  /** Failed client authentications allowed per source address over all client ids; five times the above by default. */
  maxFailuresPerSourcePerMinute?: number;
}

export interface TokenRequest {
  grantType?: string;
  scope?: string;
  clientId?: string;
  clientSecret?: string;
  usedBasicAuth: boolean;
  /** The peer address of the connection (see sourceOf). */
  sourceAddress?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

/** OAuth2 client credentials grant (RFC 6749 §4.4): a client's secret for a short-lived signed JWT. */
@Injectable()
export class TokenService {
  private readonly failures: FailedAttemptLimiter;

  constructor(
    private readonly clients: ClientsRepository,
    private readonly tenants: TenantsRepository,
    private readonly keys: SigningKeysService,
    @Inject(TENANCY_REDIS) redis: Redis,
    @Inject(TOKEN_SETTINGS) private readonly settings: TokenSettings,
    @Inject(KEY_SETTINGS) private readonly keySettings: KeySettings,
  ) {
    this.failures = new FailedAttemptLimiter(redis, 'oauth:failures', {
      perSubject: settings.maxFailuresPerMinute,
      perSource: settings.maxFailuresPerSourcePerMinute ?? 5 * settings.maxFailuresPerMinute,
    });
  }

  async issue(req: TokenRequest): Promise<TokenResponse> {
    const basic = req.usedBasicAuth;
    if (!req.grantType) throw new OAuthError('invalid_request', 'grant_type is required', 400, basic);
    if (req.grantType !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', 'Only the client_credentials grant is supported', 400, basic);
    }
    if (!req.clientId || !req.clientSecret) throw new OAuthError('invalid_client', 'Client authentication is required', 401, basic);
    if (req.clientId.length > 100 || req.clientSecret.length > 200)
      throw new OAuthError('invalid_client', 'Client authentication failed', 401, basic);

    const source = sourceOf(req.sourceAddress);
    const blocked = await this.failures.blocked(source, req.clientId);
    if (blocked === 'subject') {
      throw new OAuthError(
        'temporarily_unavailable',
        'Too many failed attempts for this client from your address; try again in a minute',
        429,
        basic,
      );
    }
    if (blocked === 'source') {
      throw new OAuthError('temporarily_unavailable', 'Too many failed attempts from your address; try again in a minute', 429, basic);
    }

    const client = await this.clients.findById(req.clientId);
    // Hash even for unknown clients so timing does not reveal which client ids exist.
    const secretOk = await verifySecret(req.clientSecret, client?.secretHash ?? DUMMY_SECRET_HASH);
    if (!client || !secretOk || client.status !== 'active') {
      await this.failures.record(source, req.clientId);
      throw new OAuthError('invalid_client', 'Client authentication failed', 401, basic);
    }

    let scopes = client.scopes;
    if (req.scope !== undefined) {
      const requested = req.scope.split(' ').filter(Boolean);
      if (requested.length === 0 || !requested.every((s) => SCOPE_TOKEN.test(s))) {
        throw new OAuthError('invalid_scope', 'scope must be a space-separated list of scope tokens', 400, basic);
      }
      const unknown = requested.filter((s) => !client.scopes.includes(s));
      if (unknown.length > 0) throw new OAuthError('invalid_scope', `The client may not request: ${unknown.join(' ')}`, 400, basic);
      scopes = [...new Set(requested)];
    }

    const tenant = await this.tenants.findById(client.tenantId);
    if (!tenant || (await this.tenants.anySuspendedOnPath(tenant.path))) {
      throw new OAuthError('unauthorized_client', 'The tenant of this client is suspended', 400, basic);
    }

    const { kid, key } = await this.keys.signingKey();
    const ttl = this.keySettings.tokenTtlSeconds;
    const scope = scopes.join(' ');
    const token = await new SignJWT({ scope, tid: tenant.id, tkind: tenant.kind, tpath: tenant.path })
      .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'at+jwt' })
      .setIssuer(this.settings.issuer)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(client.clientId)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .setJti(randomUUID())
      .sign(key);
    await this.clients.touch(client.clientId);
    return { access_token: token, token_type: 'Bearer', expires_in: ttl, scope };
  }
}
