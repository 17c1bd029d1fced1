/**
 * The gRPC baseline of the identifier bench: a bare grpc-js server serving IdentifierService.Resolve
 * from proto/ through @grpc/proto-loader with the loader options the identifier's own server uses
 * (so the wire format is the same), answering every call with one fixed Handle-shaped answer of
 * one value, serialised per call as any grpc-js handler's answer is (or, with BASELINE=device-registry,
 * DeviceRegistryService.AuthenticateDevice answering one fixed device). No framework, no auth, no
 * lookup: what grpc-js itself costs per call on this machine.
 */
import { Server, ServerCredentials, ServerUnaryCall, sendUnaryData, loadPackageDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { DeviceRegistryV1, IdentifierV1, ProtoFiles, protoRoot } from '@iip/contracts';
import { GRPC_LOADER_OPTIONS, GRPC_MAX_RECEIVE_MESSAGE_LENGTH } from '@iip/platform-grpc';

const answer: IdentifierV1.ResolveResponse = {
  responseCode: 1,
  handle: '88.100/BENCH-000001',
  values: [
    {
      index: 1,
      type: 'URL',
      format: 'string',
      valueJson: JSON.stringify('https://example.com/bench/1'),
      ttl: 86400,
      timestamp: '2026-01-01T00:00:00.000Z',
    },
  ],
};

/** The device-registry bench's baseline (BASELINE=device-registry): AuthenticateDevice answering one fixed device. */
const authenticated: DeviceRegistryV1.AuthenticatedDevice = {
  deviceId: '5c0e2b8a-6d1f-4c3e-9a7b-2f4d6e8a0b1c',
  tenantId: '0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f',
  model: { id: '1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d', name: 'Pump', version: 1 },
  status: 'active',
  handle: '88.100.1000/dev.5c0e2b8a-6d1f-4c3e-9a7b-2f4d6e8a0b1c',
  credentialId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
};

const server = new Server({ 'grpc.max_receive_message_length': GRPC_MAX_RECEIVE_MESSAGE_LENGTH });
if (process.env.BASELINE === 'device-registry') {
  const definition = loadSync(ProtoFiles.deviceRegistry, { includeDirs: [protoRoot()], ...GRPC_LOADER_OPTIONS });
  const registryV1 = loadPackageDefinition(definition).iip as unknown as {
    device_registry: { v1: { DeviceRegistryService: { service: ServiceDefinition } } };
  };
  server.addService(registryV1.device_registry.v1.DeviceRegistryService.service, {
    AuthenticateDevice: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<DeviceRegistryV1.AuthenticatedDevice>) =>
      callback(null, authenticated),
  });
} else {
  const definition = loadSync(ProtoFiles.identifier, { includeDirs: [protoRoot()], ...GRPC_LOADER_OPTIONS });
  const identifierV1 = loadPackageDefinition(definition).iip as unknown as {
    identifier: { v1: { IdentifierService: { service: ServiceDefinition } } };
  };
  server.addService(identifierV1.identifier.v1.IdentifierService.service, {
    Resolve: (
      _call: ServerUnaryCall<IdentifierV1.ResolveRequest, IdentifierV1.ResolveResponse>,
      callback: sendUnaryData<IdentifierV1.ResolveResponse>,
    ) => callback(null, answer),
  });
}
server.bindAsync(`127.0.0.1:${Number(process.env.PORT ?? 0)}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${port}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
