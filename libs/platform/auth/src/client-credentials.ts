/**
 * A service's own access token from tenancy's token endpoint (OAuth2 client credentials,
 * RFC 6749 §4.4), fetched when first needed and again shortly before it expires. Concurrent
 * callers share one request; a failed request is not cached.
 */
export class ClientCredentialsToken {
  private token?: { value: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly settings: { tokenUrl: string; clientId: string; clientSecret: string; scope?: string },
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.token && this.now() < this.token.refreshAt) return this.token.value;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Forgets the token (a call answered UNAUTHENTICATED: it may have been revoked). */
  drop(): void {
    this.token = undefined;
  }

  private async fetch(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, scope } = this.settings;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`the token endpoint ${tokenUrl} answered ${res.status} for client ${clientId}`);
    const json = (await res.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof json.access_token !== 'string') throw new Error(`the token endpoint ${tokenUrl} sent no access_token`);
    const lifetimeMs = (typeof json.expires_in === 'number' ? json.expires_in : 300) * 1000;
    // Renewed at 80% of its life, so a call never carries a token about to lapse.
    this.token = { value: json.access_token, refreshAt: this.now() + lifetimeMs * 0.8 };
    return json.access_token;
  }
}
