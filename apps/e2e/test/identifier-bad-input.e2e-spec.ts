import { ProtoFiles, protoRoot } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, defineBadInputSuite } from '@iip/platform-testing';
import { RunningTenancy, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { startTestIdentifier } from '@iip/identifier-testing';

/** The platform's bad-input table over every identifier route and RPC (tenancy runs the same table). */
describe('identifier refuses bad input on every route', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let token: string;

  beforeAll(async () => {
    env = await createTestEnvironment('idbadinput');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100', IDENTIFIER_JSON_LIMIT: '1mb' });
    token = await operatorToken(tenancy);
  });

  afterAll(async () => {
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  defineBadInputSuite(() => ({
    httpUrl: node.httpUrl,
    token,
    maxJsonBytes: 1024 * 1024,
    pathParams: { handle: '88.100/BAD-INPUT-1', prefix: '88.100.77', kind: 'pump', version: '1' },
    // The Handle REST API answers errors in its own shape (responseCode), as Handle clients expect.
    standardErrorShape: (path) => path.startsWith('/api/handles'),
    grpc: { url: node.grpcUrl, protoRoot: protoRoot(), protoFiles: [ProtoFiles.identifier] },
  }));
});
