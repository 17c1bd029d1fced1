import { request as httpRequest } from 'node:http';
import { TestEnvironment, createTestEnvironment } from '@iip/platform-testing';
import { RunningTenancy } from '../src/tenancy-app';
import { clientToken, createTenant, operatorToken, startTestTenancy } from './support';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** POST /oauth/token from a chosen local address (Linux routes all of 127/8 on lo). */
function tokenRequest(
  app: RunningTenancy,
  options: { from: string; clientId: string; secret: string; headers?: Record<string, string>; body?: string; contentType?: string },
): Promise<Answer> {
  const url = new URL('/oauth/token', app.httpUrl);
  const body = options.body ?? 'grant_type=client_credentials';
  const basic = `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.secret)}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: options.from,
        headers: {
          authorization: `Basic ${Buffer.from(basic).toString('base64')}`,
          'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the token endpoint: failed logins limited per source, form bodies only', () => {
  let env: TestEnvironment;
  let app: RunningTenancy;
  let opToken: string;
  let groupId: string;

  beforeAll(async () => {
    env = await createTestEnvironment('lockout');
    app = await startTestTenancy(env);
    opToken = await operatorToken(app);
    groupId = (await createTenant(app, opToken, { kind: 'group' })).id;
  });

  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  const newClient = () => clientToken(app, opToken, groupId, ['tenants:read']);

  it('ten wrong secrets from one address lock that address out, not the client from elsewhere', async () => {
    const c = await newClient();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await tokenRequest(app, { from: '127.0.0.2', clientId: c.clientId, secret: 'wrong' })).status);
    expect(statuses).toEqual(Array(10).fill(401));

    const eleventh = await tokenRequest(app, { from: '127.0.0.2', clientId: c.clientId, secret: 'wrong' });
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.error).toBe('temporarily_unavailable');
    expect(eleventh.headers['retry-after']).toBe('60');
    // The attacker's address is locked out even with the right secret ...
    expect((await tokenRequest(app, { from: '127.0.0.2', clientId: c.clientId, secret: c.secret })).status).toBe(429);
    // ... while the client itself, from its own address, still gets a token.
    const own = await tokenRequest(app, { from: '127.0.0.1', clientId: c.clientId, secret: c.secret });
    expect(own.status).toBe(200);
    expect(own.body.access_token).toEqual(expect.any(String));
  });

  it('a forged X-Forwarded-For neither escapes the limit nor borrows a locked-out address', async () => {
    const c = await newClient();
    for (let i = 0; i < 10; i++) {
      const res = await tokenRequest(app, {
        from: '127.0.0.4',
        clientId: c.clientId,
        secret: 'wrong',
        headers: { 'x-forwarded-for': `10.0.0.${i + 1}` },
      });
      expect(res.status).toBe(401);
    }
    const next = await tokenRequest(app, {
      from: '127.0.0.4',
      clientId: c.clientId,
      secret: 'wrong',
      headers: { 'x-forwarded-for': '10.9.9.9' },
    });
    expect(next.status).toBe(429);
    const own = await tokenRequest(app, {
      from: '127.0.0.1',
      clientId: c.clientId,
      secret: c.secret,
      headers: { 'x-forwarded-for': '127.0.0.4' },
    });
    expect(own.status).toBe(200);
  });

  it('spraying many client ids from one address gets that address 429 for every client', async () => {
    const c = await newClient();
    // Looser than the per-client limit: five times it (10) over all client ids.
    for (let i = 0; i < 50; i++) {
      const res = await tokenRequest(app, { from: '127.0.0.3', clientId: `sprayed-${i}`, secret: 'guess' });
      expect(res.status).toBe(401);
    }
    const blocked = await tokenRequest(app, { from: '127.0.0.3', clientId: c.clientId, secret: c.secret });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe('temporarily_unavailable');
    expect((await tokenRequest(app, { from: '127.0.0.1', clientId: c.clientId, secret: c.secret })).status).toBe(200);
  });

  it.each([
    ['JSON', 'application/json', JSON.stringify({ grant_type: 'client_credentials' })],
    ['NDJSON', 'application/x-ndjson', JSON.stringify({ grant_type: 'client_credentials' })],
    // Refused before routing (a media type no route takes): still RFC 6749's shape, not problem+json.
    ['plain text', 'text/plain', 'grant_type=client_credentials'],
    ['XML', 'application/xml', '<grant_type>client_credentials</grant_type>'],
  ])('refuses a %s body with 400 invalid_request (RFC 6749 §4.4.2, §5.2)', async (_, contentType, body) => {
    const c = await newClient();
    const res = await tokenRequest(app, { from: '127.0.0.1', clientId: c.clientId, secret: c.secret, contentType, body });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('application/x-www-form-urlencoded') });
  });

  it('refuses client_secret_post in a JSON body too, and accepts the form with a charset', async () => {
    const c = await newClient();
    const json = await tokenRequest(app, {
      from: '127.0.0.1',
      clientId: c.clientId,
      secret: c.secret,
      headers: { authorization: '' },
      contentType: 'application/json',
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret }),
    });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const form = await tokenRequest(app, {
      from: '127.0.0.1',
      clientId: c.clientId,
      secret: c.secret,
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    expect(form.status).toBe(200);
  });
});
