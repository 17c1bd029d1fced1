import { Metadata, credentials, makeGenericClientConstructor, status as GrpcStatus } from '@grpc/grpc-js';
import type { MqttClient } from 'mqtt';
import request from 'supertest';
import { TelemetryV1 } from '@iip/contracts';
import { TelemetryWorld, connectDevice, telemetryWorld } from './telemetry-world';

const QUOTA = 200;

/** Quotas across transports, the gRPC stream, and a revoked credential cut off at once. */
describe('telemetry: quotas, gRPC ingestion, revocation', () => {
  let w: TelemetryWorld;
  const clients: MqttClient[] = [];

  const connect = (device: { id: string; secret: string }) => connectDevice(w.telemetry.mqttPort, device, clients);
  const points = (n: number, property = 'speed') =>
    Array.from({ length: n }, (_, i) => ({ ts: Date.now() - 10_000 + i, values: { [property]: i } }));

  beforeAll(async () => {
    w = await telemetryWorld('telcontrol', { quota: QUOTA });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await w?.close();
  });

  it('just under the quota nothing is refused; over it HTTP answers 429 with Retry-After, MQTT 0x97 and gRPC RESOURCE_EXHAUSTED, shared across transports', async () => {
    const device = await w.device();
    const send = (n: number) =>
      request(w.telemetry.httpUrl).post(`/v1/devices/${device.id}/telemetry`).auth(w.token, { type: 'bearer' }).send(points(n));
    // 90% of the quota each second, for three seconds.
    for (let s = 0; s < 3; s++) {
      const started = Date.now();
      expect((await send(QUOTA * 0.9)).status).toBe(202);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
    // Then far more than the bucket holds (two seconds' worth).
    const over = await send(QUOTA * 3);
    expect(over.status).toBe(429);
    expect(over.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(over.body.code).toBe('QUOTA_EXCEEDED');

    // Drain the bucket, then MQTT and gRPC meet the same limit (shared across transports and instances, in Redis);
    // each asks for more than the bucket can hold, so a refill meanwhile cannot let it through.
    const c = await connect(device);
    while ((await send(QUOTA)).status === 202);
    const reason = await new Promise<number>((resolve) =>
      c.publish(`iip/v1/${device.id}/telemetry`, JSON.stringify(points(QUOTA * 3)), { qos: 1 }, (err) =>
        resolve((err as { code?: number } | undefined)?.code ?? 0),
      ),
    );
    expect(reason).toBe(0x97);

    const acks = await grpcIngest([{ sequence: 7, deviceId: device.id, pointsJson: JSON.stringify(points(QUOTA * 3)) }]);
    expect(acks[0]).toMatchObject({ sequence: 7, code: GrpcStatus.RESOURCE_EXHAUSTED, accepted: 0 });
    expect(acks[0].retryAfterSeconds).toBeGreaterThan(0);
  });

  it('takes a gRPC stream of batches, acknowledging each in order with what was accepted and refused', async () => {
    const device = await w.device();
    await new Promise((r) => setTimeout(r, 2100)); // a full bucket
    const acks = await grpcIngest([
      { sequence: 1, deviceId: device.id, pointsJson: JSON.stringify(points(20, 'temperature')) },
      { sequence: 2, deviceId: device.id, pointsJson: JSON.stringify([{ values: { temperature: 999 } }, { values: { speed: 5 } }]) },
      { sequence: 3, deviceId: device.id, pointsJson: '{not json' },
      { sequence: 4, deviceId: '00000000-0000-4000-8000-000000000000', pointsJson: '{"values":{"speed":1}}' },
    ]);
    expect(acks.map((a) => [a.sequence, a.code, a.accepted])).toEqual([
      [1, GrpcStatus.OK, 20],
      [2, GrpcStatus.OK, 1],
      [3, GrpcStatus.INVALID_ARGUMENT, 0],
      [4, GrpcStatus.NOT_FOUND, 0],
    ]);
    expect(acks[1].refused).toEqual([{ index: 0, property: 'temperature', reason: 'values.temperature must be <= 200' }]);
    const unauthenticated = await grpcIngest([{ sequence: 1, deviceId: device.id, pointsJson: '{}' }], 'not-a-token').catch(
      (e: { code: number }) => e,
    );
    expect(unauthenticated).toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
  });

  it('disconnects a device within a second of its credential being revoked, and refuses it afterwards', async () => {
    const device = await w.device();
    const c = await connect(device);
    const closed = new Promise<number>((resolve) => c.once('close', () => resolve(Date.now())));
    const revokedAt = Date.now();
    const res = await request(w.registry.httpUrl)
      .delete(`/v1/devices/${device.id}/credentials/${device.credentialId}`)
      .auth(w.token, { type: 'bearer' });
    expect([200, 204]).toContain(res.status);
    const at = await closed;
    expect(at - revokedAt).toBeLessThan(1000);
    await expect(connect(device)).rejects.toMatchObject({ code: 0x86 });
  });

  async function grpcIngest(batches: TelemetryV1.IngestBatch[], token = w.token): Promise<TelemetryV1.IngestAck[]> {
    const Ctor = makeGenericClientConstructor(TelemetryV1.TelemetryServiceService, 'TelemetryService');
    const client = new Ctor(w.telemetry.grpcUrl, credentials.createInsecure()) as unknown as {
      ingest(md: Metadata): import('@grpc/grpc-js').ClientDuplexStream<TelemetryV1.IngestBatch, TelemetryV1.IngestAck>;
      close(): void;
    };
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    try {
      return await new Promise((resolve, reject) => {
        const acks: TelemetryV1.IngestAck[] = [];
        const call = client.ingest(md);
        call.on('data', (a: TelemetryV1.IngestAck) => {
          acks.push(a);
          if (acks.length === batches.length) call.end();
        });
        call.on('error', reject);
        call.on('end', () => resolve(acks.map((a) => ({ ...a, sequence: Number(a.sequence) }))));
        for (const b of batches) call.write(b);
      });
    } finally {
      client.close();
    }
  }
});
