import { ProtoFiles, protoRoot } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, defineBadInputSuite } from '@iip/platform-testing';
import { RunningTenancy, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { startTestDeviceRegistry } from './support';

/** The platform's bad-input table over every device-registry route and RPC. */
describe('device registry refuses bad input on every route', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let registry: ServiceRuntime;
  let token: string;

  beforeAll(async () => {
    env = await createTestEnvironment('devbadinput');
    tenancy = await startTestTenancy(env);
    registry = await startTestDeviceRegistry(env, tenancy.httpUrl, { DEVICE_REGISTRY_JSON_LIMIT: '1mb' });
    token = await operatorToken(tenancy);
  });

  afterAll(async () => {
    await registry?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  defineBadInputSuite(() => ({
    httpUrl: registry.httpUrl,
    token,
    maxJsonBytes: 1024 * 1024,
    pathParams: { version: '1' },
    grpc: {
      url: registry.grpcUrl,
      protoRoot: protoRoot(),
      protoFiles: [ProtoFiles.deviceRegistry, ProtoFiles.deviceRegistryRenewal, ProtoFiles.deviceRegistryRenewalIndicators],
    },
  }));
});
