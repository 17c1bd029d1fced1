import { credentials, makeGenericClientConstructor, Metadata, ServiceError } from '@grpc/grpc-js';
import { IdentifierV1 } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment } from '@iip/platform-testing';
import { loadIdentifierConfig } from '../src/config';
import { startIdentifier } from '../src/identifier-app';

/** Starts an identifier node on free ports in a test environment, trusting the given tenancy. */
export function startTestIdentifier(
  env: TestEnvironment,
  tenancyUrl: string,
  overrides: Record<string, string> = {},
): Promise<ServiceRuntime> {
  return startIdentifier(
    loadIdentifierConfig(
      env.env({
        IDENTIFIER_HOST: '127.0.0.1',
        IDENTIFIER_HTTP_PORT: '0',
        IDENTIFIER_GRPC_PORT: '0',
        AUTH_JWKS_URL: `${tenancyUrl}/.well-known/jwks.json`,
        DATABASE_POOL_SIZE: '5',
        ...overrides,
      }),
    ),
  );
}

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => void;

export function identifierGrpcClient(url: string) {
  const Ctor = makeGenericClientConstructor(IdentifierV1.IdentifierServiceService, 'IdentifierService');
  const client = new Ctor(url, credentials.createInsecure()) as unknown as {
    resolve: Unary<IdentifierV1.ResolveRequest, IdentifierV1.ResolveResponse>;
    close(): void;
  };
  return {
    resolve: (req: IdentifierV1.ResolveRequest, token?: string) =>
      new Promise<IdentifierV1.ResolveResponse>((resolve, reject) => {
        const md = new Metadata();
        if (token) md.set('authorization', `Bearer ${token}`);
        client.resolve.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res!)));
      }),
    close: () => client.close(),
  };
}
