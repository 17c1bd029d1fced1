import { ClientReadableStream, credentials, makeGenericClientConstructor, Metadata, ServiceError } from '@grpc/grpc-js';
import { DeviceRegistryV1 } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment } from '@iip/platform-testing';
import { loadDeviceRegistryConfig } from '../src/config';
import { startDeviceRegistry } from '../src/device-registry-app';

/** Starts the device registry on free ports in a test environment, trusting the given tenancy. */
export function startTestDeviceRegistry(
  env: TestEnvironment,
  tenancyUrl: string,
  overrides: Record<string, string> = {},
): Promise<ServiceRuntime> {
  return startDeviceRegistry(
    loadDeviceRegistryConfig(
      env.env({
        DEVICE_REGISTRY_HOST: '127.0.0.1',
        DEVICE_REGISTRY_HTTP_PORT: '0',
        DEVICE_REGISTRY_GRPC_PORT: '0',
        AUTH_JWKS_URL: `${tenancyUrl}/.well-known/jwks.json`,
        DATABASE_POOL_SIZE: '5',
        ...overrides,
      }),
    ),
  );
}

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => void;

/** A plain grpc-js client of DeviceRegistryService, as a partner system would use it. */
export function deviceRegistryGrpcClient(url: string) {
  const Ctor = makeGenericClientConstructor(DeviceRegistryV1.DeviceRegistryServiceService, 'DeviceRegistryService');
  const client = new Ctor(url, credentials.createInsecure()) as unknown as Record<string, Unary<unknown, unknown>> & {
    watchTwinChanges(req: DeviceRegistryV1.WatchTwinChangesRequest, md: Metadata): ClientReadableStream<DeviceRegistryV1.TwinChange>;
    close(): void;
  };
  const call =
    <Req, Res>(method: string) =>
    (req: Req, token?: string): Promise<Res> =>
      new Promise((resolve, reject) => {
        const md = new Metadata();
        if (token) md.set('authorization', `Bearer ${token}`);
        client[method](req, md, (err, res) => (err ? reject(err) : resolve(res as Res)));
      });
  return {
    getDevice: call<DeviceRegistryV1.GetDeviceRequest, DeviceRegistryV1.Device>('getDevice'),
    listDevices: call<DeviceRegistryV1.ListDevicesRequest, DeviceRegistryV1.ListDevicesResponse>('listDevices'),
    getThingModel: call<DeviceRegistryV1.GetThingModelRequest, DeviceRegistryV1.ThingModel>('getThingModel'),
    authenticateDevice: call<DeviceRegistryV1.AuthenticateDeviceRequest, DeviceRegistryV1.AuthenticatedDevice>('authenticateDevice'),
    getTwin: call<DeviceRegistryV1.GetTwinRequest, DeviceRegistryV1.Twin>('getTwin'),
    updateReported: call<DeviceRegistryV1.UpdateReportedRequest, DeviceRegistryV1.Twin>('updateReported'),
    watchTwinChanges: (req: DeviceRegistryV1.WatchTwinChangesRequest, token: string) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      return client.watchTwinChanges(req, md);
    },
    close: () => client.close(),
  };
}
