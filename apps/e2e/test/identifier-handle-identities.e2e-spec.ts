import { KeyObject, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';

const SCOPES = ['tenants:read', 'identifiers:write'];
const SECRET = 'correct horse battery staple';
const MARKER = '<HS_SECKEY: stored as a hash, never shown>';

/** The Basic user a Handle client sends for the identity `index:handle`: percent-encoded. */
const basicUser = (index: number, handle: string) => encodeURIComponent(`${index}:${handle}`);

describe('identifier node: handle identities (HS_SECKEY, HTTP Basic) beside OAuth2 tokens', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let owner: CreatedTenant, other: CreatedTenant;
  let op: string;
  const tokens: Record<string, string> = {};
  const prefixes: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnvironment('identifier-identities');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    op = await operatorToken(tenancy);
    owner = await createTenant(tenancy, op, { kind: 'group' });
    other = await createTenant(tenancy, op, { kind: 'group' });
    tokens.owner = (await clientToken(tenancy, op, owner.id, SCOPES)).token;
    tokens.other = (await clientToken(tenancy, op, other.id, SCOPES)).token;
    for (const [who, tenant] of Object.entries({ owner, other })) {
      prefixes[who] = await enterprisePrefixOf(node.httpUrl, tokens[who], `the prefix of ${tenant.id}`);
    }
    // Each tenant registers an admin identity under its prefix: the secret key at index 300.
    for (const who of ['owner', 'other']) {
      const res = await putAs(tokens[who], `${prefixes[who]}/ADMIN`, [
        { index: 300, type: 'HS_SECKEY', data: { format: 'string', value: SECRET } },
        { index: 1, type: 'DESC', data: { format: 'string', value: 'admin identity' } },
      ]);
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  const putAs = (bearer: string, handle: string, values: unknown[], query = '') =>
    request(node.httpUrl).put(`/api/handles/${handle}${query}`).auth(bearer, { type: 'bearer' }).send({ values });
  const putBasic = (user: string, password: string, handle: string, values: unknown[], query = '') =>
    request(node.httpUrl).put(`/api/handles/${handle}${query}`).auth(user, password).send({ values });
  const deleteBasic = (user: string, password: string, handle: string) =>
    request(node.httpUrl).delete(`/api/handles/${handle}`).auth(user, password);
  const get = (handle: string, bearer?: string) => {
    const r = request(node.httpUrl).get(`/api/handles/${handle}?auth=true`);
    return bearer ? r.auth(bearer, { type: 'bearer' }) : r;
  };
  const url = (value: string) => ({ index: 1, type: 'URL', data: { format: 'string', value } });
  /** An HS_ADMIN naming the identity (index 100 is the node's own, so another index). */
  const adminOf = (handle: string, index = 300) => ({
    index: 101,
    type: 'HS_ADMIN',
    data: { format: 'admin', value: { handle, index, permissions: '011111110011' } },
  });
  const ownerAdmin = () => `${prefixes.owner}/ADMIN`;
  const ownerUser = () => basicUser(300, ownerAdmin());

  it('stores the secret key as a slow hash and never shows it, not even to the owner', async () => {
    const anonymous = await get(ownerAdmin());
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.values.map((v: { type: string }) => v.type)).toEqual(['DESC', 'HS_ADMIN']);
    const asOwner = await get(ownerAdmin(), tokens.owner);
    expect(asOwner.status).toBe(200);
    expect(asOwner.body.values.find((v: { index: number }) => v.index === 300)).toMatchObject({
      type: 'HS_SECKEY',
      data: { format: 'string', value: MARKER },
    });
    expect(JSON.stringify(asOwner.body)).not.toContain(SECRET);
    expect(JSON.stringify(asOwner.body)).not.toContain('scrypt');
    const [row]: { value: unknown }[] = await node.dataSource.query(
      `SELECT v.value FROM identifier_values v JOIN identifiers i ON i.key = v.key WHERE i.handle = $1 AND v.idx = 300`,
      [ownerAdmin()],
    );
    expect(row.value).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(JSON.stringify(row.value)).not.toContain(SECRET);
  });

  it('keeps the stored key when a client writes the record back as it read it', async () => {
    const read = await get(ownerAdmin(), tokens.owner);
    const values = read.body.values.filter((v: { index: number }) => v.index !== 100);
    expect((await putAs(tokens.owner, ownerAdmin(), values)).status).toBe(200);
    const created = await putBasic(ownerUser(), SECRET, `${prefixes.owner}/KEPT-1`, [url('https://example.com/kept')]);
    expect(created.status).toBe(201);
  });

  it('creates a handle for a Handle client authenticated as the identity with its secret key', async () => {
    const handle = `${prefixes.owner}/DEVICE-1`;
    const res = await putBasic(ownerUser(), SECRET, handle, [url('https://example.com/device-1'), adminOf(ownerAdmin())]);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ responseCode: 1, handle, version: 1 });
    const resolved = await get(handle);
    expect(resolved.status).toBe(200);
    expect(resolved.body.values.map((v: { index: number; type: string }) => [v.index, v.type])).toEqual([
      [1, 'URL'],
      [100, 'HS_ADMIN'],
      [101, 'HS_ADMIN'],
    ]);
    expect(resolved.body.values[0].data.value).toBe('https://example.com/device-1');
    // The identity named in the handle's HS_ADMIN changes it further.
    const changed = await putBasic(ownerUser(), SECRET, handle, [url('https://example.com/device-1b')], '?index=1');
    expect(changed.status).toBe(200);
    expect((await get(handle)).body.values[0].data.value).toBe('https://example.com/device-1b');
  });

  it('refuses a wrong secret with 401 and responseCode 402, and changes nothing', async () => {
    const handle = `${prefixes.owner}/DEVICE-1`;
    const res = await putBasic(ownerUser(), 'wrong secret', handle, [url('https://evil.example.com')], '?index=1');
    expect(res.status).toBe(401);
    expect(res.body.responseCode).toBe(402);
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await get(handle)).body.values[0].data.value).toBe('https://example.com/device-1b');
    const unknown = await putBasic(basicUser(300, `${prefixes.owner}/NOBODY`), SECRET, `${prefixes.owner}/DEVICE-X`, [url('x')]);
    expect(unknown.status).toBe(401);
    expect(unknown.body.responseCode).toBe(402);
    expect((await get(`${prefixes.owner}/DEVICE-X`)).status).toBe(404);
    // A malformed identity is a 401 as well, never a bearer token's answer.
    const malformed = await putBasic('not-an-identity', SECRET, `${prefixes.owner}/DEVICE-X`, [url('x')]);
    expect(malformed.status).toBe(401);
    expect(malformed.body.responseCode).toBe(402);
  });

  it("refuses an identity of another tenant's prefix with 403 and responseCode 400, and changes nothing", async () => {
    const otherUser = basicUser(300, `${prefixes.other}/ADMIN`);
    const created = await putBasic(otherUser, SECRET, `${prefixes.owner}/DEVICE-2`, [url('https://evil.example.com')]);
    expect(created.status).toBe(403);
    expect(created.body.responseCode).toBe(400);
    expect((await get(`${prefixes.owner}/DEVICE-2`)).status).toBe(404);
    const changed = await putBasic(otherUser, SECRET, `${prefixes.owner}/DEVICE-1`, [url('https://evil.example.com')], '?index=1');
    expect(changed.status).toBe(403);
    expect(changed.body.responseCode).toBe(400);
    const deleted = await deleteBasic(otherUser, SECRET, `${prefixes.owner}/DEVICE-1`);
    expect(deleted.status).toBe(403);
    expect((await get(`${prefixes.owner}/DEVICE-1`)).body.values[0].data.value).toBe('https://example.com/device-1b');
  });

  it('refuses an identity of the same tenant that the handle does not name as an admin', async () => {
    const handle = `${prefixes.owner}/TOKEN-ONLY`;
    expect((await putAs(tokens.owner, handle, [url('https://example.com/token-only')])).status).toBe(201);
    const res = await putBasic(ownerUser(), SECRET, handle, [url('https://evil.example.com')], '?index=1');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ responseCode: 400, code: 'NOT_HANDLE_ADMIN' });
    expect((await deleteBasic(ownerUser(), SECRET, handle)).status).toBe(403);
    expect((await get(handle)).body.values[0].data.value).toBe('https://example.com/token-only');
  });

  it('lets an identity act through an admin group (HS_VLIST) the handle names', async () => {
    const group = `${prefixes.owner}/ADMINS`;
    expect(
      (
        await putAs(tokens.owner, group, [
          { index: 200, type: 'HS_VLIST', data: { format: 'vlist', value: [{ handle: ownerAdmin(), index: 300 }] } },
        ])
      ).status,
    ).toBe(201);
    const handle = `${prefixes.owner}/GROUPED`;
    expect((await putAs(tokens.owner, handle, [url('https://example.com/grouped'), adminOf(group, 200)])).status).toBe(201);
    const res = await putBasic(ownerUser(), SECRET, handle, [url('https://example.com/grouped-2')], '?index=1');
    expect(res.status).toBe(200);
  });

  it('deletes a handle for the identity, and keeps OAuth2 tokens working beside it', async () => {
    const handle = `${prefixes.owner}/DEVICE-1`;
    const res = await deleteBasic(ownerUser(), SECRET, handle);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ responseCode: 1, handle });
    expect((await get(handle)).status).toBe(404);
    expect((await putAs(tokens.owner, handle, [url('https://example.com/again')])).status).toBe(201);
    expect((await get(handle)).status).toBe(200);
  });

  it('never authenticates against a plaintext key an older release stored, and hashes it on the next write', async () => {
    const handle = `${prefixes.owner}/LEGACY`;
    expect((await putAs(tokens.owner, handle, [url('https://example.com/legacy'), adminOf(handle)])).status).toBe(201);
    const [{ key }]: { key: string }[] = await node.dataSource.query('SELECT key FROM identifiers WHERE handle = $1', [handle]);
    await node.dataSource.query(
      `INSERT INTO identifier_values (key, idx, type, format, value, ttl, access, grantees) VALUES ($1, 300, 'HS_SECKEY', 'string', $2::jsonb, 60, 'tenant', '{}')`,
      [key, JSON.stringify('legacy-plain')],
    );
    const user = basicUser(300, handle);
    expect((await putBasic(user, 'legacy-plain', handle, [url('x')], '?index=1')).status).toBe(401);
    // Any write of the record hashes it; from then on the key authenticates.
    expect((await putAs(tokens.owner, handle, [url('https://example.com/legacy-2')], '?index=1')).status).toBe(200);
    const [row]: { value: unknown }[] = await node.dataSource.query('SELECT value FROM identifier_values WHERE key = $1 AND idx = 300', [
      key,
    ]);
    expect(row.value).toMatch(/^scrypt\$/);
    expect((await putBasic(user, 'legacy-plain', handle, [url('https://example.com/legacy-3')], '?index=1')).status).toBe(200);
  });

  it('refuses an HS_SECKEY in a batch (each key is hashed slowly, one PUT at a time)', async () => {
    const res = await request(node.httpUrl)
      .post('/v1/identifiers/batch')
      .auth(tokens.owner, { type: 'bearer' })
      .send({
        items: [
          { handle: `${prefixes.owner}/BATCHED`, values: [{ index: 300, type: 'HS_SECKEY', data: { format: 'string', value: 'x' } }] },
        ],
      });
    expect(JSON.stringify(res.body)).toMatch(/not in a batch/);
    expect((await get(`${prefixes.owner}/BATCHED`)).status).toBe(404);
  });

  it('answers 429 after repeated failures for one identity from one address, even with the right secret', async () => {
    const handle = `${prefixes.owner}/LIMITED`;
    expect((await putAs(tokens.owner, handle, [{ index: 300, type: 'HS_SECKEY', data: { format: 'string', value: SECRET } }])).status).toBe(
      201,
    );
    const user = basicUser(300, handle);
    for (let i = 0; i < 10; i++) expect((await putBasic(user, `wrong-${i}`, `${prefixes.owner}/L-${i}`, [url('x')])).status).toBe(401);
    const limited = await putBasic(user, SECRET, `${prefixes.owner}/L-OK`, [url('x')]);
    expect(limited.status).toBe(429);
    expect((await get(`${prefixes.owner}/L-OK`)).status).toBe(404);
    // Another identity from the same address is not locked out by it.
    expect((await putBasic(ownerUser(), SECRET, `${prefixes.owner}/L-OTHER`, [url('x')])).status).toBe(201);
  });

  it("refuses a suspended tenant's identities within seconds, and honours them again after reactivation", async () => {
    const suspended = await createTenant(tenancy, op, { kind: 'group' });
    const token = (await clientToken(tenancy, op, suspended.id, SCOPES)).token;
    const prefix = await waitFor(
      async () =>
        (await request(node.httpUrl).get('/v1/prefixes').auth(token, { type: 'bearer' })).body.items?.[0]?.prefix as string | undefined,
      30_000,
      `the prefix of ${suspended.id}`,
    );
    const identity = `${prefix}/ADMIN`;
    expect((await putAs(token, identity, [{ index: 300, type: 'HS_SECKEY', data: { format: 'string', value: SECRET } }])).status).toBe(201);
    const user = basicUser(300, identity);
    let n = 0;
    const write = () => putBasic(user, SECRET, `${prefix}/S-${++n}`, [url('x')]);
    expect((await write()).status).toBe(201);

    const suspend = await request(tenancy.httpUrl)
      .post(`/v1/tenants/${suspended.id}/suspend`)
      .auth(op, { type: 'bearer' })
      .send({ reason: 'test' });
    expect(suspend.status).toBe(200);
    const refused = await waitFor(
      async () => ((await write()).status === 401 ? true : undefined),
      10_000,
      'the suspended identity refused',
    );
    expect(refused).toBe(true);

    // An instance that reads revocations back only 1 s (so its token view has never heard of this
    // suspension) still refuses: identities are checked against the suspensions this node records.
    await new Promise((r) => setTimeout(r, 1_500));
    const late = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100', AUTH_REVOCATION_WINDOW_S: '1' });
    try {
      const viaLate = await request(late.httpUrl)
        .put(`/api/handles/${prefix}/LATE-1`)
        .auth(user, SECRET)
        .send({ values: [url('x')] });
      expect(viaLate.status).toBe(401);
      // Nothing was written (read as the operator: the suspended tenant's own token is refused too).
      expect((await request(late.httpUrl).get(`/api/handles/${prefix}/LATE-1?auth=true`).auth(op, { type: 'bearer' })).status).toBe(404);
    } finally {
      await late.close();
    }

    const reactivate = await request(tenancy.httpUrl).post(`/v1/tenants/${suspended.id}/reactivate`).auth(op, { type: 'bearer' });
    expect(reactivate.status).toBe(200);
    // Refused while suspended is not a failed secret: it does not count towards the identity's limit.
    expect(await waitFor(async () => ((await write()).status === 201 ? true : undefined), 10_000, 'the identity honoured again')).toBe(
      true,
    );
  });

  describe('public-key identities: the Handle REST API’s sessions and Authorization: Handle', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    /** HS_PUBKEY data as the Handle software encodes an RSA key: type, two reserved octets, exponent, modulus. */
    const hsPubkey = (key: KeyObject) => {
      const jwk = key.export({ format: 'jwk' });
      const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (8 * (3 - i))) & 0xff)), b]);
      return Buffer.concat([
        field(Buffer.from('RSA_PUB_KEY')),
        Buffer.from([0, 0]),
        field(Buffer.from(jwk.e as string, 'base64url')),
        field(Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n as string, 'base64url')])),
      ]).toString('base64');
    };
    const openSession = async () => {
      const res = await request(node.httpUrl).post('/api/sessions');
      expect(res.status).toBe(201);
      return res.body as { sessionId: string; nonce: string };
    };
    /** Signs the session's nonce and a client nonce, as Handle REST clients do, and sends it to POST /api/sessions/this. */
    const authenticate = (session: { sessionId: string; nonce: string }, key = privateKey, id = `301:${ownerAdmin()}`) => {
      const cnonce = randomBytes(16);
      const signature = sign('sha256', Buffer.concat([Buffer.from(session.nonce, 'base64'), cnonce]), key).toString('base64');
      return request(node.httpUrl)
        .post('/api/sessions/this')
        .set(
          'Authorization',
          `Handle version="0", sessionId="${session.sessionId}", cnonce="${cnonce.toString('base64')}", id="${id}", type="HS_PUBKEY", alg="SHA256", signature="${signature}"`,
        );
    };
    const asSession = (sessionId: string) => `Handle version="0", sessionId="${sessionId}"`;

    beforeAll(async () => {
      const res = await putAs(
        tokens.owner,
        ownerAdmin(),
        [{ index: 301, type: 'HS_PUBKEY', data: { format: 'key', value: hsPubkey(publicKey) } }],
        '?index=301',
      );
      expect(res.status).toBe(200);
    });

    it('authenticates a session by signature, then writes with it as the identity', async () => {
      const session = await openSession();
      const auth = await authenticate(session);
      expect(auth.status).toBe(200);
      expect(auth.body).toEqual({ sessionId: session.sessionId, authenticated: true, id: `301:${ownerAdmin()}` });
      const handle = `${prefixes.owner}/PK-DEVICE-1`;
      const created = await request(node.httpUrl)
        .put(`/api/handles/${handle}`)
        .set('Authorization', asSession(session.sessionId))
        .send({ values: [url('https://example.com/pk-1'), adminOf(ownerAdmin(), 301)] });
      expect(created.status).toBe(201);
      const changed = await request(node.httpUrl)
        .put(`/api/handles/${handle}?index=1`)
        .set('Authorization', asSession(session.sessionId))
        .send({ values: [url('https://example.com/pk-1b')] });
      expect(changed.status).toBe(200);
      expect((await get(handle)).body.values[0].data.value).toBe('https://example.com/pk-1b');

      // Ended sessions authenticate nothing.
      expect((await request(node.httpUrl).delete('/api/sessions/this').set('Authorization', asSession(session.sessionId))).status).toBe(
        204,
      );
      const after = await request(node.httpUrl)
        .put(`/api/handles/${handle}?index=1`)
        .set('Authorization', asSession(session.sessionId))
        .send({ values: [url('https://evil.example.com')] });
      expect(after.status).toBe(401);
      expect(after.body.responseCode).toBe(402);
      expect((await get(handle)).body.values[0].data.value).toBe('https://example.com/pk-1b');
    });

    it('refuses a signature by another key, an unauthenticated session and an unknown one with 401, and writes nothing', async () => {
      const session = await openSession();
      const wrong = await authenticate(session, stranger);
      expect(wrong.status).toBe(401);
      expect(wrong.body.responseCode).toBe(402);
      expect(wrong.headers['www-authenticate']).toContain('Handle');
      const handle = `${prefixes.owner}/PK-DEVICE-2`;
      for (const sessionId of [session.sessionId, 'no-such-session']) {
        const res = await request(node.httpUrl)
          .put(`/api/handles/${handle}`)
          .set('Authorization', asSession(sessionId))
          .send({ values: [url('https://evil.example.com')] });
        expect(res.status).toBe(401);
        expect(res.body.responseCode).toBe(402);
      }
      // The secret key's index signs nothing: it is not a public key.
      expect((await authenticate(session, privateKey, `300:${ownerAdmin()}`)).status).toBe(401);
      expect((await get(handle)).status).toBe(404);
    });
  });
});
