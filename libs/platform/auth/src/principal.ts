/** The kinds of tenant in the platform's tree. */
export const TENANT_KINDS = ['platform', 'group', 'subsidiary', 'park', 'park-member'] as const;
export type TenantKind = (typeof TENANT_KINDS)[number];

/** A tenant and its place in the tree: `path` lists ancestor ids from the root down to itself. */
export interface TenantRef {
  id: string;
  kind: TenantKind;
  path: string[];
}

/** Who is calling: an OAuth2 client of a tenant, with the scopes its token carries. */
export interface Principal {
  clientId: string;
  tenant: TenantRef;
  scopes: ReadonlySet<string>;
  tokenId?: string;
  /**
   * `iat`, epoch seconds: revocations made at or after it apply to this token. Always set by
   * the verifier; a principal built without it counts as issued long ago (every revocation applies).
   */
  issuedAt?: number;
  expiresAt: number;
  /**
   * Set when a Handle client authenticated as a handle identity (`index:handle` and its secret
   * key) rather than with a token: the service then also checks the identity administers what it changes.
   */
  handleIdentity?: { index: number; handle: string };
}

/** Claims IIP access tokens carry beyond the registered ones. */
export interface AccessTokenClaims {
  sub: string;
  scope: string;
  tid: string;
  tkind: TenantKind;
  tpath: string[];
}

export const ACCESS_TOKEN_AUDIENCE = 'iip';
