import { KeyLike, SignJWT, generateKeyPair } from 'jose';
import { RevocationView } from './revocation-view';
import { InvalidTokenError, TokenVerifier } from './token-verifier';

describe('TokenVerifier', () => {
  let key: { privateKey: KeyLike; publicKey: KeyLike };
  let other: { privateKey: KeyLike; publicKey: KeyLike };
  let verifier: TokenVerifier;

  beforeAll(async () => {
    key = await generateKeyPair('ES256');
    other = await generateKeyPair('ES256');
    verifier = new TokenVerifier({ issuer: 'iip-tenancy', keys: () => Promise.resolve(key.publicKey) });
  });

  const sign = (claims: Record<string, unknown>, opts: { key?: KeyLike; exp?: number; iss?: string; aud?: string } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'tenants:read tenants:write', tid: 'g', tkind: 'group', tpath: ['p', 'g'], ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(opts.iss ?? 'iip-tenancy')
      .setAudience(opts.aud ?? 'iip')
      .setSubject('client-1')
      .setIssuedAt(now - 10)
      .setExpirationTime(opts.exp ?? now + 600)
      .sign(opts.key ?? key.privateKey);
  };

  it('turns a valid token into a principal with its tenant and scopes', async () => {
    const p = await verifier.verify(await sign({}));
    expect(p.clientId).toBe('client-1');
    expect(p.tenant).toEqual({ id: 'g', kind: 'group', path: ['p', 'g'] });
    expect([...p.scopes].sort()).toEqual(['tenants:read', 'tenants:write']);
  });

  it.each([
    ['signed by another key', () => sign({}, { key: other.privateKey }), /signature/],
    ['expired', () => sign({}, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['from another issuer', () => sign({}, { iss: 'someone-else' }), /iss/],
    ['for another audience', () => sign({}, { aud: 'not-iip' }), /aud/],
    ['with an unknown tenant kind', () => sign({ tkind: 'empire' }), /kind/],
    ['whose path does not end at its tenant', () => sign({ tpath: ['p', 'x'] }), /path/],
    ['without scopes', () => sign({ scope: undefined }), /scope/],
  ])('rejects a token %s', async (_, make, message) => {
    await expect(verifier.verify(await make())).rejects.toThrow(InvalidTokenError);
    await expect(verifier.verify(await make())).rejects.toThrow(message);
  });

  it('rejects garbage and an unsigned token', async () => {
    await expect(verifier.verify('not.a.jwt')).rejects.toThrow(InvalidTokenError);
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'x', scope: 'a:b', tid: 'g', tkind: 'group', tpath: ['g'] })).toString('base64url');
    await expect(verifier.verify(`${header}.${body}.`)).rejects.toThrow(InvalidTokenError);
  });

  it('carries iat as issuedAt', async () => {
    const p = await verifier.verify(await sign({}));
    expect(p.issuedAt).toBe(Math.floor(Date.now() / 1000) - 10);
  });

  it('refuses a token, cached or not, once its client is revoked or a tenant on its path suspended', async () => {
    const revocations = new RevocationView({ windowSec: 900 });
    const guarded = new TokenVerifier({ issuer: 'iip-tenancy', keys: () => Promise.resolve(key.publicKey), revocations });
    const now = Date.now() / 1000;
    const cached = await sign({});
    await expect(guarded.verify(cached)).resolves.toMatchObject({ clientId: 'client-1' });
    revocations.clientRevoked('client-1', now);
    await expect(guarded.verify(cached)).rejects.toThrow(InvalidTokenError);
    await expect(guarded.verify(cached)).rejects.toThrow(/revoked/);
    await expect(guarded.verify(await sign({ tid: 'x', tpath: ['p', 'x'] }))).rejects.toThrow(/revoked/);

    const ofSubsidiary = await sign({ tid: 's', tkind: 'subsidiary', tpath: ['p', 'g2', 's'] });
    const signedOther = await new SignJWT({ scope: 'tenants:read', tid: 's', tkind: 'subsidiary', tpath: ['p', 'g2', 's'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('iip-tenancy')
      .setAudience('iip')
      .setSubject('client-2')
      .setIssuedAt(Math.floor(now) - 10)
      .setExpirationTime(Math.floor(now) + 600)
      .sign(key.privateKey);
    await expect(guarded.verify(signedOther)).resolves.toMatchObject({ clientId: 'client-2' });
    revocations.tenantSuspended('g2', now);
    await expect(guarded.verify(signedOther)).rejects.toThrow(/revoked/);
    await expect(guarded.verify(ofSubsidiary)).rejects.toThrow(/revoked/);
    // The verifier without a view is unaffected.
    await expect(verifier.verify(signedOther)).resolves.toBeDefined();
  });

  it('does not serve a cached principal after the token expires', async () => {
    const strict = new TokenVerifier({ issuer: 'iip-tenancy', keys: () => Promise.resolve(key.publicKey), clockToleranceSec: 0 });
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await sign({}, { exp: now + 1 });
    await expect(strict.verify(shortLived)).resolves.toBeDefined();
    await new Promise((r) => setTimeout(r, 2100));
    await expect(strict.verify(shortLived)).rejects.toThrow(/expired/);
  });
});
