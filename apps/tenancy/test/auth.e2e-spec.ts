import { SignJWT, generateKeyPair } from 'jose';
import request from 'supertest';
import { TokenVerifier } from '@iip/platform-auth';
import { TestEnvironment, createTestEnvironment } from '@iip/platform-testing';
import { SigningKeysService } from '../src/oauth/signing-keys.service';
import { RunningTenancy } from '../src/tenancy-app';
import { OPERATOR, clientToken, createTenant, operatorToken, startTestTenancy, tokenFor } from './support';

describe('tenancy OAuth2 client credentials and token verification', () => {
  let env: TestEnvironment;
  let app: RunningTenancy;
  let opToken: string;

  beforeAll(async () => {
    env = await createTestEnvironment('auth');
    app = await startTestTenancy(env);
    opToken = await operatorToken(app);
  });

  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  const tokenRequest = () => request(app.httpUrl).post('/oauth/token').type('form');

  it('issues a token that reaches a protected endpoint', async () => {
    const res = await tokenRequest().auth(OPERATOR.clientId, OPERATOR.secret).send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const read = await request(app.httpUrl).get(`/v1/tenants/${app.platformTenantId}`).auth(res.body.access_token, { type: 'bearer' });
    expect(read.status).toBe(200);
    expect(read.body.kind).toBe('platform');
  });

  it('accepts client_secret_post as well as HTTP Basic', async () => {
    const res = await tokenRequest().send({
      grant_type: 'client_credentials',
      client_id: OPERATOR.clientId,
      client_secret: OPERATOR.secret,
    });
    expect(res.status).toBe(200);
  });

  it.each([
    ['a wrong secret', { user: OPERATOR.clientId, pass: 'not-the-secret' }],
    ['an unknown client', { user: 'no-such-client', pass: OPERATOR.secret }],
  ])('answers %s with 401 invalid_client', async (_, creds) => {
    const res = await tokenRequest().auth(creds.user, creds.pass).send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it.each([
    ['no grant_type', {}, 400, 'invalid_request'],
    ['another grant type', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ['a scope the client does not hold', { grant_type: 'client_credentials', scope: 'tenants:read devices:admin' }, 400, 'invalid_scope'],
  ])('answers %s per RFC 6749 §5.2', async (_, body, status, error) => {
    const res = await tokenRequest().auth(OPERATOR.clientId, OPERATOR.secret).send(body);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });

  it('narrows a token to the requested scopes', async () => {
    const token = await tokenFor(app, OPERATOR.clientId, OPERATOR.secret, 'tenants:read');
    const write = await request(app.httpUrl)
      .post('/v1/tenants')
      .auth(token, { type: 'bearer' })
      .send({ kind: 'group', name: 'x', creditCode: '91350100M000100Y43' });
    expect(write.status).toBe(403);
  });

  it('rejects a request with a missing scope with 403 insufficient_scope', async () => {
    const group = await createTenant(app, opToken, { kind: 'group' });
    const reader = await clientToken(app, opToken, group.id, ['tenants:read']);
    const res = await request(app.httpUrl)
      .post('/v1/tenants')
      .auth(reader.token, { type: 'bearer' })
      .send({ kind: 'subsidiary', name: 'Plant', creditCode: '91350100M000100Y43' });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('INSUFFICIENT_SCOPE');
    expect(res.headers['www-authenticate']).toContain('insufficient_scope');
  });

  describe('rejects with 401', () => {
    const probe = (token: string) => request(app.httpUrl).get(`/v1/tenants/${app.platformTenantId}`).auth(token, { type: 'bearer' });

    it('no token at all', async () => {
      const res = await request(app.httpUrl).get(`/v1/tenants/${app.platformTenantId}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });

    it('a forged token (claims changed after signing)', async () => {
      const [header, payload, signature] = opToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      claims.scope = `${claims.scope} devices:admin`;
      const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
      const res = await probe(forged);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('INVALID_TOKEN');
    });

    it('an expired token signed by the real key', async () => {
      const { kid, key } = await app.app.get(SigningKeysService).signingKey();
      const claims = JSON.parse(Buffer.from(opToken.split('.')[1], 'base64url').toString());
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({ scope: claims.scope, tid: claims.tid, tkind: claims.tkind, tpath: claims.tpath })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer('iip-tenancy')
        .setAudience('iip')
        .setSubject(OPERATOR.clientId)
        .setIssuedAt(now - 3600)
        .setExpirationTime(now - 1800)
        .sign(key);
      const res = await probe(expired);
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/expired/);
    });

    it('a token signed by another key, even under a published kid', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const claims = JSON.parse(Buffer.from(opToken.split('.')[1], 'base64url').toString());
      const publishedKid = JSON.parse(Buffer.from(opToken.split('.')[0], 'base64url').toString()).kid;
      for (const kid of [publishedKid, 'attacker-key']) {
        const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
        const res = await probe(token);
        expect(res.status).toBe(401);
      }
    });

    it('a token of a revoked client cannot be renewed', async () => {
      const group = await createTenant(app, opToken, { kind: 'group' });
      const c = await clientToken(app, opToken, group.id, ['tenants:read']);
      const revoke = await request(app.httpUrl).delete(`/v1/tenants/${group.id}/clients/${c.clientId}`).auth(opToken, { type: 'bearer' });
      expect(revoke.status).toBe(204);
      const res = await tokenRequest().auth(c.clientId, c.secret).send({ grant_type: 'client_credentials' });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    });
  });

  it('never returns or stores the client secret in clear', async () => {
    const group = await createTenant(app, opToken, { kind: 'group' });
    const c = await clientToken(app, opToken, group.id, ['tenants:read']);
    const list = await request(app.httpUrl).get(`/v1/tenants/${group.id}/clients`).auth(opToken, { type: 'bearer' });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(c.secret);
    const rows: { secret_hash: string }[] = await app.dataSource.query('SELECT secret_hash FROM oauth_clients WHERE client_id = $1', [
      c.clientId,
    ]);
    expect(rows[0].secret_hash).toMatch(/^scrypt\$/);
    expect(rows[0].secret_hash).not.toContain(c.secret);
  });

  it('rotates keys: old tokens stay valid, the JWKS publishes both, remote verifiers follow', async () => {
    const remote = TokenVerifier.remote(`${app.httpUrl}/.well-known/jwks.json`, 'iip-tenancy');
    const before = await tokenFor(app, OPERATOR.clientId, OPERATOR.secret);
    await expect(remote.verify(before)).resolves.toMatchObject({ clientId: OPERATOR.clientId });

    const rotate = await request(app.httpUrl).post('/v1/keys/rotate').auth(opToken, { type: 'bearer' });
    expect(rotate.status).toBe(201);
    const jwks = await request(app.httpUrl).get('/.well-known/jwks.json');
    const kids = jwks.body.keys.map((k: { kid: string }) => k.kid);
    expect(kids).toContain(rotate.body.kid);
    expect(kids).toContain(JSON.parse(Buffer.from(before.split('.')[0], 'base64url').toString()).kid);

    const after = await tokenFor(app, OPERATOR.clientId, OPERATOR.secret);
    expect(JSON.parse(Buffer.from(after.split('.')[0], 'base64url').toString()).kid).toBe(rotate.body.kid);
    await expect(remote.verify(after)).resolves.toMatchObject({ clientId: OPERATOR.clientId });
    expect((await request(app.httpUrl).get(`/v1/tenants/${app.platformTenantId}`).auth(before, { type: 'bearer' })).status).toBe(200);
  });

  it('limits repeated failed client authentications', async () => {
    const group = await createTenant(app, opToken, { kind: 'group' });
    const c = await clientToken(app, opToken, group.id, ['tenants:read']);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await tokenRequest().auth(c.clientId, 'wrong').send({ grant_type: 'client_credentials' })).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});
