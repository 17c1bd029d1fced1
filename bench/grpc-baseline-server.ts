/**
 * The gRPC baseline of the identifier bench: a bare grpc-js server serving IdentifierService.Resolve
 * from proto/ through @grpc/proto-loader with the loader options the identifier's own server uses
 * (so the wire format is the same), answering every call with one fixed Handle-shaped answer of
 * one value, serialised per call as any grpc-js handler's answer is. No framework, no auth, no
 * lookup: what grpc-js itself costs per call on this machine.
 */
import { Server, ServerCredentials, ServerUnaryCall, sendUnaryData, loadPackageDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { IdentifierV1, ProtoFiles, protoRoot } from '@iip/contracts';
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

const definition = loadSync(ProtoFiles.identifier, { includeDirs: [protoRoot()], ...GRPC_LOADER_OPTIONS });
const identifierV1 = loadPackageDefinition(definition).iip as unknown as {
  identifier: { v1: { IdentifierService: { service: ServiceDefinition } } };
};
const server = new Server({ 'grpc.max_receive_message_length': GRPC_MAX_RECEIVE_MESSAGE_LENGTH });
server.addService(identifierV1.identifier.v1.IdentifierService.service, {
  Resolve: (
    _call: ServerUnaryCall<IdentifierV1.ResolveRequest, IdentifierV1.ResolveResponse>,
    callback: sendUnaryData<IdentifierV1.ResolveResponse>,
  ) => callback(null, answer),
});
server.bindAsync(`127.0.0.1:${Number(process.env.PORT ?? 0)}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${port}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
