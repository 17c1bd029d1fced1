import { join } from 'node:path';
import { ClientReadableStream, credentials, makeGenericClientConstructor, Metadata, ServiceError } from '@grpc/grpc-js';
import { IdentifierV1 } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import request from 'supertest';
import { TestEnvironment, waitFor } from '@iip/platform-testing';
import { loadIdentifierConfig } from '../src/config';
import { nativePorts, startIdentifier } from '../src/identifier-app';

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
        IDENTIFIER_HANDLE_PORT: '0',
        IDENTIFIER_HANDLE_HTTP_PORT: '0',
        AUTH_JWKS_URL: `${tenancyUrl}/.well-known/jwks.json`,
        DATABASE_POOL_SIZE: '5',
        ...overrides,
      }),
    ),
  );
}

/**
 * The first enterprise prefix a token's tenant holds at a node, once the node has allocated it
 * (TenantOnboarded → PrefixAllocated runs through Kafka, so it may take a moment).
 */
export function enterprisePrefixOf(nodeUrl: string, token: string, what = 'the enterprise prefix'): Promise<string> {
  return waitFor(
    async () => {
      const res = await request(nodeUrl).get('/v1/prefixes').auth(token, { type: 'bearer' });
      return res.body.items?.[0]?.prefix as string | undefined;
    },
    30_000,
    what,
  );
}

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => void;

/** A plain grpc-js client of IdentifierService, as a partner system would use it. */
export function identifierGrpcClient(url: string) {
  const Ctor = makeGenericClientConstructor(IdentifierV1.IdentifierServiceService, 'IdentifierService');
  const client = new Ctor(url, credentials.createInsecure()) as unknown as Record<string, Unary<unknown, unknown>> & {
    watchChanges(req: IdentifierV1.WatchChangesRequest, md: Metadata): ClientReadableStream<IdentifierV1.IdentifierChange>;
    close(): void;
  };
  const md = (token?: string) => {
    const m = new Metadata();
    if (token) m.set('authorization', `Bearer ${token}`);
    return m;
  };
  const call =
    <Req, Res>(name: string) =>
    (req: Req, token?: string): Promise<Res> =>
      new Promise((resolve, reject) => {
        client[name].call(client, req, md(token), (err, res) => (err ? reject(err) : resolve(res as Res)));
      });
  return {
    resolve: call<IdentifierV1.ResolveRequest, IdentifierV1.ResolveResponse>('resolve'),
    register: call<IdentifierV1.RegisterRequest, IdentifierV1.WriteResponse>('register'),
    batchRegister: call<IdentifierV1.BatchRegisterRequest, IdentifierV1.BatchRegisterResponse>('batchRegister'),
    update: call<IdentifierV1.UpdateRequest, IdentifierV1.WriteResponse>('update'),
    delete: call<IdentifierV1.DeleteRequest, IdentifierV1.WriteResponse>('delete'),
    list: call<IdentifierV1.ListRequest, IdentifierV1.ListResponse>('list'),
    reverseLookup: call<IdentifierV1.ReverseLookupRequest, IdentifierV1.ListResponse>('reverseLookup'),
    watchChanges: (req: IdentifierV1.WatchChangesRequest, token?: string) => client.watchChanges(req, md(token)),
    close: () => client.close(),
  };
}

/** The ports of a started node's native Handle interfaces (TCP/UDP and HTTP). */
export function nativePortsOf(runtime: ServiceRuntime): { tcp: number; udp: number; http: number } {
  const ports = nativePorts.get(runtime);
  if (!ports) throw new Error('This node has no native Handle interfaces');
  return ports;
}

/** The node's native interfaces as the Java harness's `server` field names them (TCP+UDP port, HTTP port). */
export function nativeServerOf(runtime: ServiceRuntime): { host: string; port: number; httpPort: number } {
  const ports = nativePortsOf(runtime);
  return { host: '127.0.0.1', port: ports.tcp, httpPort: ports.http };
}

// The Handle System's Java client, fetched with Maven and driven over JSON lines (tools/handle-client);
// a CommonJS tool outside the projects, so it is loaded by path rather than imported.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const handleClientHarness = require(
  join(__dirname, '../../../tools/handle-client/harness.cjs'),
) as typeof import('../../../tools/handle-client/harness.cjs');

export type HandleJavaClient = Awaited<ReturnType<typeof handleClientHarness.startHandleClient>>;

/** Starts the Java Handle client harness (compiled on first use, into the git-ignored cache). */
export function startHandleJavaClient(): Promise<HandleJavaClient> {
  return handleClientHarness.startHandleClient();
}
