import { status as GrpcStatus } from '@grpc/grpc-js';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { deviceRegistryGrpcClient, startTestDeviceRegistry } from '@iip/device-registry-testing';

const SCOPES = ['tenants:read', 'tenants:write', 'clients:write', 'devices:read', 'devices:write', 'models:write'];

/** Device credentials (two registry instances, as telemetry meets them) and twins. */
describe('device registry: credentials hold across instances; twins validate against the model', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let a: ServiceRuntime;
  let b: ServiceRuntime;
  let op: string;
  let token: string;
  let deviceId: string;

  const as = (url: string) => ({
    get: (path: string) => request(url).get(path).auth(token, { type: 'bearer' }),
    post: (path: string, body: object) => request(url).post(path).auth(token, { type: 'bearer' }).send(body),
    patch: (path: string, body: object, headers: Record<string, string> = {}) =>
      request(url).patch(path).auth(token, { type: 'bearer' }).set(headers).send(body),
    delete: (path: string) => request(url).delete(path).auth(token, { type: 'bearer' }),
  });

  beforeAll(async () => {
    env = await createTestEnvironment('devcred');
    tenancy = await startTestTenancy(env);
    a = await startTestDeviceRegistry(env, tenancy.httpUrl);
    b = await startTestDeviceRegistry(env, tenancy.httpUrl);
    op = await operatorToken(tenancy);
    const group = await createTenant(tenancy, op, { kind: 'group' });
    token = (await clientToken(tenancy, op, group.id, SCOPES)).token;
    const model = await waitFor(
      async () => {
        const res = await as(a.httpUrl).post('/v1/models', {
          name: 'Pump',
          definition: {
            properties: {
              temperature: { type: 'float', unit: 'Cel', min: -40, max: 200, access: 'read-only' },
              speed: { type: 'int', unit: '/min', min: 0, max: 3600, access: 'read-write' },
              mode: { type: 'enum', values: ['auto', 'manual'], access: 'read-write' },
              label: { type: 'string', access: 'read-write' },
              bearing: { type: 'struct', fields: { temp: { type: 'float', max: 120 } }, access: 'read-only' },
            },
          },
        });
        return res.status === 503 ? undefined : res;
      },
      20_000,
      'the registry to know the group',
    );
    await as(a.httpUrl).post(`/v1/models/${model.body.id}/versions/1/publish`, {});
    const device = await as(a.httpUrl).post('/v1/devices', {
      name: 'P1',
      manufacturer: 'KSB',
      serial: 'KSB-1',
      model: { id: model.body.id },
    });
    expect(device.status).toBe(201);
    deviceId = device.body.id;
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  it('accepts the right secret, refuses a wrong one, and a revocation at one instance is refused at the other within a second', async () => {
    const grpcA = deviceRegistryGrpcClient(a.grpcUrl);
    const grpcB = deviceRegistryGrpcClient(b.grpcUrl);
    try {
      const first = await as(a.httpUrl).post(`/v1/devices/${deviceId}/credentials`, { kind: 'secret', label: 'factory' });
      expect(first.status).toBe(201);
      expect(first.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const listed = await as(b.httpUrl).get(`/v1/devices/${deviceId}/credentials`);
      expect(listed.body).toEqual([expect.objectContaining({ id: first.body.id, kind: 'secret', revokedAt: null })]);
      expect(JSON.stringify(listed.body)).not.toContain(first.body.secret);

      // Telemetry's service client (the operator's here) asks either instance.
      const ok = await grpcA.authenticateDevice({ deviceId, secret: first.body.secret, certificateFingerprint: '' }, op);
      expect(ok).toMatchObject({ deviceId, credentialId: first.body.id, status: 'provisioned', model: { name: 'Pump', version: 1 } });
      for (const wrong of [
        { deviceId, secret: `${first.body.secret}x` },
        { deviceId: '00000000-0000-4000-8000-000000000000', secret: first.body.secret },
      ]) {
        await expect(grpcB.authenticateDevice({ certificateFingerprint: '', ...wrong }, op)).rejects.toMatchObject({
          code: GrpcStatus.UNAUTHENTICATED,
        });
      }
      // A tenant that does not manage the device cannot use it as an oracle.
      const other = await createTenant(tenancy, op, { kind: 'group' });
      const otherToken = (await clientToken(tenancy, op, other.id, ['devices:authenticate'])).token;
      await expect(
        grpcB.authenticateDevice({ deviceId, secret: first.body.secret, certificateFingerprint: '' }, otherToken),
      ).rejects.toMatchObject({
        code: GrpcStatus.UNAUTHENTICATED,
      });
      expect((await grpcB.authenticateDevice({ deviceId, secret: first.body.secret, certificateFingerprint: '' }, op)).credentialId).toBe(
        first.body.id,
      );

      // Rotation: a second secret, issued at A, works at B once B has heard of it (B cached the first set).
      const second = await as(a.httpUrl).post(`/v1/devices/${deviceId}/credentials`, { kind: 'secret', label: 'rotated' });
      await waitFor(
        () => grpcB.authenticateDevice({ deviceId, secret: second.body.secret, certificateFingerprint: '' }, op).catch(() => undefined),
        10_000,
        'B to accept the rotated secret',
        20,
      );
      const third = await as(a.httpUrl).post(`/v1/devices/${deviceId}/credentials`, { kind: 'secret' });
      expect([third.status, third.body.code]).toEqual([409, 'CREDENTIAL_LIMIT']);

      // Revoke the first at A: B refuses it within a second.
      const revoked = await as(a.httpUrl).delete(`/v1/devices/${deviceId}/credentials/${first.body.id}`);
      const revokedAt = Date.now();
      expect(revoked.body.revokedAt).not.toBeNull();
      await waitFor(
        () =>
          grpcB.authenticateDevice({ deviceId, secret: first.body.secret, certificateFingerprint: '' }, op).then(
            () => undefined,
            (err: { code: GrpcStatus }) => (err.code === GrpcStatus.UNAUTHENTICATED ? true : undefined),
          ),
        5_000,
        'B to refuse the revoked secret',
        20,
      );
      const refusedAfterMs = Date.now() - revokedAt;
      console.log(`credential revocation at instance A refused at instance B after ${refusedAfterMs} ms`);
      expect(refusedAfterMs).toBeLessThan(1_000);
      expect((await grpcB.authenticateDevice({ deviceId, secret: second.body.secret, certificateFingerprint: '' }, op)).credentialId).toBe(
        second.body.id,
      );

      // A certificate, by fingerprint: it names the device on its own.
      await as(a.httpUrl).delete(`/v1/devices/${deviceId}/credentials/${second.body.id}`);
      const fingerprint = 'AB:'.repeat(31) + 'CD';
      const cert = await as(a.httpUrl).post(`/v1/devices/${deviceId}/credentials`, { kind: 'x509', fingerprint });
      expect(cert.body).toMatchObject({ kind: 'x509', fingerprint: `${'ab'.repeat(31)}cd` });
      expect(
        (await grpcA.authenticateDevice({ deviceId: '', secret: '', certificateFingerprint: fingerprint.toLowerCase() }, op)).deviceId,
      ).toBe(deviceId);
      const badPem = await as(a.httpUrl).post(`/v1/devices/${deviceId}/credentials`, {
        kind: 'x509',
        certificatePem: '-----BEGIN CERTIFICATE-----\nnope\n',
      });
      expect([badPem.status, badPem.body.code]).toEqual([400, 'CREDENTIAL_INPUT_INVALID']);

      // A suspended device cannot connect, whatever its credential.
      await as(a.httpUrl).post(`/v1/devices/${deviceId}/lifecycle`, { status: 'active' });
      await as(a.httpUrl).post(`/v1/devices/${deviceId}/lifecycle`, { status: 'suspended' });
      await waitFor(
        () =>
          grpcB.authenticateDevice({ deviceId: '', secret: '', certificateFingerprint: fingerprint }, op).then(
            () => undefined,
            (err: { code: GrpcStatus }) => (err.code === GrpcStatus.UNAUTHENTICATED ? true : undefined),
          ),
        5_000,
        'B to refuse the suspended device',
        20,
      );
      await as(a.httpUrl).post(`/v1/devices/${deviceId}/lifecycle`, { status: 'active' });
    } finally {
      grpcA.close();
      grpcB.close();
    }
  });

  it('round-trips desired and reported with per-leaf times and the delta; validates against the model; If-Match and size hold', async () => {
    const twin = (path = '') => `/v1/devices/${deviceId}/twin${path}`;
    const desired = await as(a.httpUrl).patch(twin('/desired'), { speed: 1200, mode: 'auto' });
    expect(desired.status).toBe(200);
    expect(desired.body).toMatchObject({
      desired: { document: { speed: 1200, mode: 'auto' }, version: 1 },
      delta: { speed: 1200, mode: 'auto' },
    });
    const reported = await as(b.httpUrl).patch(
      twin('/reported'),
      { temperature: 80.5, speed: 1200, bearing: { temp: 40 } },
      { 'If-Match': '"0"' },
    );
    expect(reported.body).toMatchObject({
      reported: { document: { temperature: 80.5, speed: 1200, bearing: { temp: 40 } }, version: 1 },
      delta: { mode: 'auto' },
    });
    expect(Date.parse(reported.body.reported.metadata.bearing.temp)).toBeGreaterThan(Date.now() - 60_000);
    const read = await as(a.httpUrl).get(twin());
    expect(read.body).toEqual(reported.body);

    // Desired may set only read-write properties; both sides follow the model, naming each bad path.
    const readOnly = await as(a.httpUrl).patch(twin('/desired'), { temperature: 10 });
    expect([readOnly.status, readOnly.body.errors]).toEqual([
      400,
      [{ field: 'desired.temperature', message: 'is not in the thing model' }],
    ]);
    const outOfRange = await as(a.httpUrl).patch(twin('/reported'), { temperature: 500, bearing: { temp: 130 }, mode: 'turbo' });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'reported.bearing.temp',
      'reported.mode',
      'reported.temperature',
    ]);

    const stale = await as(a.httpUrl).patch(twin('/reported'), { temperature: 81 }, { 'If-Match': '"0"' });
    expect([stale.status, stale.body.code]).toEqual([409, 'VERSION_CONFLICT']);
    const big = await as(a.httpUrl).patch(twin('/reported'), { label: 'x'.repeat(300 * 1024) });
    expect([big.status, big.body.code]).toEqual([413, 'TWIN_TOO_LARGE']);
    expect(big.headers['content-type']).toContain('application/problem+json');

    // The fleet query reads reported values, attributes and profile.
    const fleet = (q: string) => as(a.httpUrl).get('/v1/fleet/devices').query({ q });
    expect(
      (await fleet("reported.temperature > 80 AND manufacturer = 'KSB' AND status = 'active'")).body.items.map((d: { id: string }) => d.id),
    ).toEqual([deviceId]);
    expect((await fleet('reported.temperature > 81')).body.items).toEqual([]);
    expect((await fleet('reported.bearing.temp <= 40 AND NOT profile.keyProcess = true')).body.items).toHaveLength(1);
    const counts = await as(a.httpUrl).get('/v1/fleet/counts').query({ q: 'reported.speed >= 1000', groupBy: 'status' });
    expect(counts.body).toEqual({ groupBy: 'status', total: 1, groups: [{ value: 'active', count: 1 }] });
    const badQuery = await fleet("reported.temperature > 'hot' AND");
    expect([badQuery.status, badQuery.body.errors?.[0]?.field]).toEqual([400, 'q']);

    // Twin changes stream to those who manage the device, and to no one else.
    const watcher = deviceRegistryGrpcClient(b.grpcUrl);
    const outsider = await createTenant(tenancy, op, { kind: 'group' });
    const outsiderToken = (await clientToken(tenancy, op, outsider.id, ['devices:read'])).token;
    const seen: { deviceId: string; side: string; patchJson: string }[] = [];
    const leaked: unknown[] = [];
    const mine = watcher.watchTwinChanges({ deviceId: '' }, token);
    const theirs = watcher.watchTwinChanges({ deviceId: '' }, outsiderToken);
    mine.on('data', (c: { deviceId: string; side: string; patchJson: string }) => seen.push(c));
    theirs.on('data', (c: unknown) => leaked.push(c));
    for (const s of [mine, theirs]) s.on('error', () => undefined);
    try {
      let n = 0;
      await waitFor(
        async () => {
          await as(a.httpUrl).patch(twin('/desired'), { speed: 1000 + (n++ % 2) });
          return seen.some((c) => c.side === 'desired') ? true : undefined;
        },
        15_000,
        'a desired change on the stream',
        300,
      );
      expect(seen[0]).toMatchObject({ deviceId, side: 'desired' });
      expect(JSON.parse(seen[0].patchJson)).toHaveProperty('speed');
      expect(leaked).toEqual([]);
      await as(a.httpUrl).patch(twin('/desired'), { speed: 1200 });
    } finally {
      mine.cancel();
      theirs.cancel();
      watcher.close();
    }

    // gRPC: the same twin, and reported updates with the same rules.
    const grpc = deviceRegistryGrpcClient(a.grpcUrl);
    try {
      const viaGrpc = await grpc.updateReported({ deviceId, patchJson: JSON.stringify({ mode: 'auto' }), expectedVersion: 1 }, token);
      expect([viaGrpc.reportedVersion, JSON.parse(viaGrpc.deltaJson)]).toEqual([2, {}]);
      await expect(grpc.updateReported({ deviceId, patchJson: '{"speed": -1}', expectedVersion: 0 }, token)).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
      expect(JSON.parse((await grpc.getTwin({ deviceId }, token)).desiredJson)).toEqual({ speed: 1200, mode: 'auto' });
    } finally {
      grpc.close();
    }
  });
});
