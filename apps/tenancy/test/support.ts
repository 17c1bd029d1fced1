import { credentials, makeGenericClientConstructor, Metadata, ServiceError } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { TenancyV1 } from '@iip/contracts';
import { TestEnvironment } from '@iip/platform-testing';
import { loadTenancyConfig } from '../src/config';
import { RunningTenancy, startTenancy } from '../src/tenancy-app';
import { creditCodeCheckChar } from '../src/tenants/credit-code';

export const OPERATOR = { clientId: 'test-operator', secret: 'test-operator-secret-0123456789' };

/** Starts tenancy on free ports inside a test environment, with a known operator client. */
export async function startTestTenancy(env: TestEnvironment, overrides: Record<string, string> = {}): Promise<RunningTenancy> {
  const config = loadTenancyConfig(
    env.env({
      TENANCY_HOST: '127.0.0.1',
      TENANCY_HTTP_PORT: '0',
      TENANCY_GRPC_PORT: '0',
      OPERATOR_CLIENT_ID: OPERATOR.clientId,
      OPERATOR_CLIENT_SECRET: OPERATOR.secret,
      ONBOARDING_POLL_MS: '200',
      DATABASE_POOL_SIZE: '5',
      ...overrides,
    }),
  );
  return startTenancy(config);
}

/** A random but valid unified social credit code. */
export function makeCreditCode(): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const bytes = randomBytes(9);
  const org = [...bytes].map((b) => alphabet[b % 31]).join('');
  const first17 = `91${String(100000 + (bytes[0] % 800000)).slice(0, 6)}${org}`;
  return first17 + creditCodeCheckChar(first17);
}

export async function tokenFor(app: RunningTenancy, clientId: string, secret: string, scope?: string): Promise<string> {
  const res = await request(app.httpUrl)
    .post('/oauth/token')
    .auth(clientId, secret)
    .type('form')
    .send({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

export const operatorToken = (app: RunningTenancy) => tokenFor(app, OPERATOR.clientId, OPERATOR.secret);

export interface CreatedTenant {
  id: string;
  kind: string;
  path: string[];
  creditCode: string;
}

export async function createTenant(app: RunningTenancy, token: string, body: Record<string, unknown>): Promise<CreatedTenant> {
  const res = await request(app.httpUrl)
    .post('/v1/tenants')
    .auth(token, { type: 'bearer' })
    .send({ name: `Tenant ${randomBytes(3).toString('hex')}`, creditCode: makeCreditCode(), ...body });
  if (res.status !== 201) throw new Error(`create tenant failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CreatedTenant;
}

/** Creates a client for `tenantId` and returns a token of it. */
export async function clientToken(
  app: RunningTenancy,
  creatorToken: string,
  tenantId: string,
  scopes: string[],
): Promise<{ clientId: string; secret: string; token: string }> {
  const res = await request(app.httpUrl)
    .post(`/v1/tenants/${tenantId}/clients`)
    .auth(creatorToken, { type: 'bearer' })
    .send({ name: 'test client', scopes });
  if (res.status !== 201) throw new Error(`create client failed: ${res.status} ${JSON.stringify(res.body)}`);
  const token = await tokenFor(app, res.body.clientId, res.body.clientSecret);
  return { clientId: res.body.clientId, secret: res.body.clientSecret, token };
}

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => void;

/** A plain grpc-js client of TenancyService, as a partner system would use it. */
export function tenancyGrpcClient(url: string) {
  const Ctor = makeGenericClientConstructor(TenancyV1.TenancyServiceService, 'TenancyService');
  const client = new Ctor(url, credentials.createInsecure()) as unknown as {
    getTenant: Unary<TenancyV1.GetTenantRequest, TenancyV1.Tenant>;
    listDescendants: Unary<TenancyV1.ListDescendantsRequest, TenancyV1.ListDescendantsResponse>;
    checkAccess: Unary<TenancyV1.CheckAccessRequest, TenancyV1.CheckAccessResponse>;
    close(): void;
  };
  const call =
    <Req, Res>(method: Unary<Req, Res>) =>
    (req: Req, token?: string): Promise<Res> =>
      new Promise((resolve, reject) => {
        const md = new Metadata();
        if (token) md.set('authorization', `Bearer ${token}`);
        method.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res!)));
      });
  return {
    getTenant: call(client.getTenant),
    listDescendants: call(client.listDescendants),
    checkAccess: call(client.checkAccess),
    close: () => client.close(),
  };
}
export type { RunningTenancy } from '../src/tenancy-app';
