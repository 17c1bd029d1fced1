import { Metadata, ServiceDefinition, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { IdentifierV1, ProtoFiles, protoRoot } from '@iip/contracts';
import { GRPC_LOADER_OPTIONS } from '@iip/platform-grpc';
import { Metrics } from '@iip/platform-observability';
import { isHandleSyntaxError, parseHandle } from '../handles/handle-syntax';
import { NodeSettings, PrefixesService } from '../prefixes/prefixes.service';
import { DelegationsRepository } from '../prefixes/delegations.repository';
import { IdentifiersRepository } from '../identifiers/identifiers.repository';
import { ResolutionStatsService } from '../statistics/resolution-stats.service';
import { grpcResolveFastPath } from './grpc-fast-path';
import { resolveResponseOf } from './identifier.grpc-controller';
import { CachedRecord, CachedValue, RecordCache } from './record-cache';
import { RemoteResolver } from './remote-resolver';
import { ResolutionService } from './resolution.service';

// The identifier server's own codec for ResolveResponse, as grpc-js gets it from proto-loader.
const definition = loadSync(ProtoFiles.identifier, { includeDirs: [protoRoot()], ...GRPC_LOADER_OPTIONS });
const service = (
  loadPackageDefinition(definition).iip as unknown as { identifier: { v1: { IdentifierService: { service: ServiceDefinition } } } }
).identifier.v1.IdentifierService.service;
const encode = service.Resolve.responseSerialize as (response: unknown) => Buffer;
const decode = service.Resolve.responseDeserialize as (bytes: Buffer) => unknown;

const owner = { id: 'owner', kind: 'group', path: ['owner'] } as const;
const value = (idx: number, type: string, access: CachedValue['access'], v: unknown = `v${idx}`): CachedValue => ({
  idx,
  type,
  format: typeof v === 'string' ? 'string' : 'json',
  value: v,
  ttl: 86_400,
  access,
  grantees: [],
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const admin = value(100, 'HS_ADMIN', 'public', { index: 200, handle: '0.NA/88.100', permissions: '111111111111' });

function setup() {
  const records = new Map<string, CachedRecord>();
  const store = (handle: string, values: CachedValue[]) => {
    const parsed = parseHandle(handle);
    if (isHandleSyntaxError(parsed)) throw new Error(parsed.message);
    records.set(parsed.key, { found: true, handle, version: 1, owner: { ...owner, path: [...owner.path] }, values });
  };
  const hosted = { prefix: '88.100', kind: 'node', createdAt: new Date(0) };
  const prefixes = {
    peekHosted: (prefix: string) => (prefix.startsWith('88.100') ? { row: hosted } : undefined),
    hostedPrefixFor: (prefix: string) => Promise.resolve(prefix.startsWith('88.100') ? hosted : undefined),
  } as unknown as PrefixesService;
  const cache = {
    peek: (key: string) => records.get(key),
    get: (key: string) => Promise.resolve({ record: records.get(key) ?? { found: false }, source: 'memory' }),
  } as unknown as RecordCache;
  const stats = { count: jest.fn() };
  const resolution = new ResolutionService(
    {} as IdentifiersRepository,
    prefixes,
    cache,
    {} as DelegationsRepository,
    {} as RemoteResolver,
    stats as unknown as ResolutionStatsService,
    {} as NodeSettings,
  );
  const metrics = new Metrics('identifier-test');
  const fastPath = grpcResolveFastPath(resolution, metrics);
  const counted = async () =>
    (await metrics.grpcCalls.get()).values.find((v) => v.labels.method === 'IdentifierGrpcController.resolve' && v.labels.code === 'OK')
      ?.value ?? 0;
  return { store, resolution, fastPath, stats, counted };
}

const request = (handle: string, more: Partial<IdentifierV1.ResolveRequest> = {}) => ({
  handle,
  types: [],
  indexes: [],
  authoritative: false,
  ...more,
});

describe('grpcResolveFastPath', () => {
  it('answers a cached public record with the bytes the full path would send, and counts it', async () => {
    const { store, resolution, fastPath, stats, counted } = setup();
    store('88.100/Pump-1', [value(1, 'URL', 'public'), value(2, 'SERIAL', 'tenant'), value(3, 'META', 'public', { a: [1, 'x'] }), admin]);
    const bytes = fastPath.answer(request('88.100/pump-1'), new Metadata(), encode);
    const full = encode(resolveResponseOf(await resolution.resolve(undefined, '88.100/pump-1', { types: [], indexes: [] })));
    expect(bytes).toEqual(full);
    expect(decode(bytes!)).toMatchObject({
      responseCode: 1,
      handle: '88.100/Pump-1',
      values: [{ index: 1 }, { index: 3 }, { index: 100 }],
    });
    expect(stats.count).toHaveBeenCalledWith('88.100');
    expect(await counted()).toBe(1);
  });

  it('encodes once per cached record', () => {
    const { store, fastPath } = setup();
    store('88.100/A', [value(1, 'URL', 'public'), admin]);
    const counting = jest.fn(encode);
    const first = fastPath.answer(request('88.100/A'), new Metadata(), counting);
    expect(fastPath.answer(request('88.100/A'), new Metadata(), counting)).toBe(first);
    expect(counting).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['a caller with a token', request('88.100/A'), 'Bearer x'],
    ['type filters', request('88.100/A', { types: ['URL'] }), undefined],
    ['index filters', request('88.100/A', { indexes: [1] }), undefined],
    ['an authoritative read', request('88.100/A', { authoritative: true }), undefined],
    ['U+0000 in the handle', request('88.100/A\u0000'), undefined],
    ['a lone surrogate in the handle', request('88.100/A\ud800'), undefined],
    ['a record not in memory', request('88.100/B'), undefined],
    ['a prefix not hosted here', request('77.1/A'), undefined],
    ['a prefix record', request('0.NA/88.100'), undefined],
    ['a syntax error', request('no-slash'), undefined],
  ])('hands on %s', async (_name, req, authorization) => {
    const { store, fastPath, stats, counted } = setup();
    store('88.100/A', [value(1, 'URL', 'public'), admin]);
    const metadata = new Metadata();
    if (authorization) metadata.set('authorization', authorization);
    expect(fastPath.answer(req, metadata, encode)).toBeUndefined();
    expect(stats.count).not.toHaveBeenCalled();
    expect(await counted()).toBe(0);
  });

  it('hands on a record with nothing public, which the full path answers as not found', async () => {
    const { store, resolution, fastPath } = setup();
    store('88.100/HIDDEN', [value(1, 'URL', 'tenant'), admin]);
    expect(fastPath.answer(request('88.100/HIDDEN'), new Metadata(), encode)).toBeUndefined();
    expect(fastPath.answer(request('88.100/HIDDEN'), new Metadata(), encode)).toBeUndefined();
    await expect(resolution.resolve(undefined, '88.100/HIDDEN', { types: [], indexes: [] })).rejects.toMatchObject({
      code: 'HANDLE_NOT_FOUND',
    });
  });
});
