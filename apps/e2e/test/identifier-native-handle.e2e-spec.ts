import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import {
  HandleJavaClient,
  enterprisePrefixOf,
  nativePortsOf,
  nativeServerOf,
  startHandleJavaClient,
  startTestIdentifier,
} from '@iip/identifier-testing';

interface JavaValue {
  index: number;
  type: string;
  text: string;
  publicRead: boolean;
  adminHandle?: string;
  adminIndex?: number;
}

/** A native request built byte by byte (RFC 3652 §2.2), independent of the server's encoder. */
function nativeRequest(opts: {
  opCode?: number;
  body?: Buffer;
  bodyLength?: number;
  credential?: Buffer;
  requestId?: number;
  envelopeLength?: number;
}) {
  const body = opts.body ?? Buffer.alloc(0);
  const header = Buffer.alloc(24);
  header.writeInt32BE(opts.opCode ?? 1, 0);
  header.writeInt32BE(0, 4); // response code: a request
  header.writeUInt32BE(0x01000000, 8); // public only
  header.writeInt32BE(opts.bodyLength ?? body.length, 20);
  const credential = opts.credential ?? Buffer.alloc(4);
  const message = Buffer.concat([header, body, credential]);
  const envelope = Buffer.alloc(20);
  envelope[0] = 2;
  envelope[1] = 10;
  envelope.writeInt32BE(opts.requestId ?? 4242, 8);
  envelope.writeInt32BE(opts.envelopeLength ?? message.length, 16);
  return Buffer.concat([envelope, message]);
}

function resolutionBody(handle: string, indexCount = 0): Buffer {
  const h = Buffer.from(handle, 'utf8');
  const out = Buffer.alloc(4 + h.length + 8);
  out.writeInt32BE(h.length, 0);
  h.copy(out, 4);
  out.writeInt32BE(indexCount, 4 + h.length); // indexes (none)
  out.writeInt32BE(0, 8 + h.length); // types (none)
  return out;
}

/** An OC_RESPONSE_TO_CHALLENGE body: auth type, identity handle, identity index, signed response. */
function challengeAnswer(): Buffer {
  const field = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeInt32BE(b.length, 0);
    return Buffer.concat([length, b]);
  };
  const index = Buffer.alloc(4);
  index.writeInt32BE(300, 0);
  return Buffer.concat([field(Buffer.from('HS_SECKEY')), field(Buffer.from('88.100.1/ADMIN')), index, field(Buffer.alloc(21, 7))]);
}

/** Response code of a framed answer (envelope, then the header's op code and response code). */
const responseCodeOf = (answer: Buffer) => answer.readInt32BE(24);

/** Sends bytes over TCP; resolves with what came back before the server closed or `waitMs` passed. */
function overTcp(port: number, bytes: Buffer, waitMs = 1500): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed });
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    }, waitMs);
    socket.end(bytes);
  });
}

async function overUdp(port: number, bytes: Buffer, waitMs = 1000): Promise<Buffer | undefined> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const answer = new Promise<Buffer | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs);
    socket.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
  socket.send(bytes, port, '127.0.0.1');
  const got = await answer;
  socket.close();
  return got;
}

describe('identifier node: the native Handle protocol, driven by the Handle System’s Java client', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let owner: CreatedTenant;
  let token: string;
  let prefix: string;
  let java: HandleJavaClient;
  const server = () => nativeServerOf(node);

  beforeAll(async () => {
    env = await createTestEnvironment('identifier-native');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    const op = await operatorToken(tenancy);
    owner = await createTenant(tenancy, op, { kind: 'group' });
    token = (await clientToken(tenancy, op, owner.id, ['tenants:read', 'identifiers:write'])).token;
    prefix = await enterprisePrefixOf(node.httpUrl, token);
    const put = await request(node.httpUrl)
      .put(`/api/handles/${prefix}/PUMP-1`)
      .auth(token, { type: 'bearer' })
      .send({
        values: [
          { index: 1, type: 'URL', data: 'https://example.com/pumps/1' },
          { index: 2, type: 'EMAIL', data: { format: 'string', value: 'service@example.com' } },
          { index: 7, type: 'SERIAL', data: { format: 'string', value: 'SN-SECRET-7' }, access: 'tenant' },
          { index: 8, type: 'PRICE', data: { format: 'string', value: '1000 CNY' }, access: 'granted', grantees: [owner.id] },
        ],
      });
    expect(put.status).toBe(201);
    java = await startHandleJavaClient();
  });

  afterAll(async () => {
    await java?.close();
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  it.each(['tcp', 'udp', 'http'])('resolves a public record over %s with the values GET /api/handles gives', async (transport) => {
    const rest = await request(node.httpUrl).get(`/api/handles/${prefix}/PUMP-1`);
    expect(rest.status).toBe(200);
    const answer = await java.request({ op: 'resolve', handle: `${prefix}/PUMP-1`, server: server(), transport });
    expect(answer).toMatchObject({ ok: true, responseCode: 1, handle: `${prefix}/PUMP-1` });
    const values = answer.values as JavaValue[];
    const restStrings = (rest.body.values as { index: number; type: string; data: { format: string; value: unknown } }[])
      .filter((v) => v.data.format === 'string')
      .map((v) => ({ index: v.index, type: v.type, text: v.data.value }));
    expect(values.filter((v) => v.type !== 'HS_ADMIN').map(({ index, type, text }) => ({ index, type, text }))).toEqual(restStrings);
    // HS_ADMIN decodes as the Handle System's admin record naming the prefix record.
    expect(values.find((v) => v.type === 'HS_ADMIN')).toMatchObject({ index: 100, adminHandle: `0.NA/${prefix}`, adminIndex: 200 });
    // Access control holds natively: tenant and granted values never go to an anonymous request.
    expect(values.map((v) => v.index)).not.toContain(7);
    expect(values.map((v) => v.index)).not.toContain(8);
    expect(JSON.stringify(answer)).not.toContain('SN-SECRET-7');
    expect(values.every((v) => v.publicRead)).toBe(true);
  });

  it('answers handle-not-found with the protocol’s code, and filters by type', async () => {
    const missing = await java.request({ op: 'resolve', handle: `${prefix}/NOPE`, server: server(), transport: 'tcp' });
    expect(missing).toMatchObject({ ok: false, responseCode: 100 });
    const byType = await java.request({ op: 'resolve', handle: `${prefix}/PUMP-1`, server: server(), transport: 'udp', types: ['EMAIL'] });
    expect((byType.values as JavaValue[]).map((v) => v.type)).toEqual(['EMAIL']);
  });

  it('publishes its site: GET_SITE_INFO and the prefix record’s HS_SITE name the ports it listens on', async () => {
    const ports = nativePortsOf(node);
    const site = await java.request({ op: 'siteInfo', server: server(), transport: 'tcp' });
    expect(site).toMatchObject({ ok: true, responseCode: 1 });
    const interfaces = (site.servers as { interfaces: { protocol: string; port: number }[] }[])[0].interfaces;
    expect(interfaces.map((i) => [i.protocol, i.port])).toEqual([
      ['UDP', ports.udp],
      ['TCP', ports.tcp],
      ['HTTP', ports.http],
    ]);
    const record = await java.request({ op: 'resolve', handle: `0.NA/${prefix}`, server: server(), transport: 'tcp', types: ['HS_SITE'] });
    expect((record.values as JavaValue[]).map((v) => v.type)).toEqual(['HS_SITE']);
  });

  it('challenges a write (402 with a nonce and the request digest), and nothing changes until it is answered', async () => {
    const h = Buffer.from(`${prefix}/PUMP-1`);
    const body = Buffer.concat([Buffer.from([0, 0, 0, h.length]), h]);
    const { data } = await overTcp(nativePortsOf(node).tcp, nativeRequest({ opCode: 101, body })); // DELETE_HANDLE
    expect(data.readInt32BE(20)).toBe(101); // answered under the request's op code
    expect(responseCodeOf(data)).toBe(402); // AUTHENTICATION_NEEDED
    expect(data.readInt32BE(4)).not.toBe(0); // the session id the answer must name
    const flags = data.readUInt32BE(28);
    expect(flags & 0x00800000).not.toBe(0); // carries the request digest
    expect((await request(node.httpUrl).get(`/api/handles/${prefix}/PUMP-1`)).status).toBe(200);
  });

  describe('malformed messages get the protocol’s error or a closed connection, and the node keeps serving', () => {
    const valid = () => nativeRequest({ body: resolutionBody(`${prefix}/PUMP-1`) });
    // Every row has four entries: with fewer, jest.each would pass `done` as the last argument.
    const cases: [string, () => Buffer, 'error' | 'closed', number][] = [
      ['a truncated envelope', () => Buffer.from([2, 10, 0, 0, 0, 0]), 'closed', 0],
      ['an envelope announcing more bytes than are sent', () => valid().subarray(0, 40), 'closed', 0],
      [
        'an envelope announcing more than 256 KiB',
        () => nativeRequest({ body: resolutionBody('x'), envelopeLength: 10_000_000 }),
        'closed',
        0,
      ],
      [
        'a body length larger than the message',
        () => nativeRequest({ body: resolutionBody(`${prefix}/PUMP-1`), bodyLength: 5_000 }),
        'error',
        4,
      ],
      ['an unknown op code', () => nativeRequest({ opCode: 999, body: resolutionBody('x') }), 'error', 5],
      [
        'a credential longer than what follows',
        () => nativeRequest({ body: resolutionBody('x'), credential: Buffer.from([0, 0, 1, 0, 9]) }),
        'error',
        4,
      ],
      ['an index count no message could hold', () => nativeRequest({ body: resolutionBody('x', 0x3fffffff) }), 'error', 4],
      [
        'a handle that is not UTF-8',
        () => nativeRequest({ body: Buffer.from([0, 0, 0, 2, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0]) }),
        'error',
        102,
      ],
      // OC_RESPONSE_TO_CHALLENGE naming a session no challenge was issued for: AUTHENTICATION_FAILED.
      ['an answer to a challenge that was never issued', () => nativeRequest({ opCode: 200, body: challengeAnswer() }), 'error', 403],
      ['an answer to a challenge cut short', () => nativeRequest({ opCode: 200, body: challengeAnswer().subarray(0, 12) }), 'error', 4],
      [
        'a LIST_HANDLES of something that is not a prefix record',
        () => nativeRequest({ opCode: 105, body: resolutionBody('88.100/X') }),
        'error',
        102,
      ],
      [
        'a write whose value count no message could hold',
        () => nativeRequest({ opCode: 102, body: resolutionBody('x', 0x3fffffff) }),
        'error',
        4,
      ],
    ];

    it.each(cases)('TCP: %s', async (_what, bytes, outcome, code) => {
      const { data, closed } = await overTcp(nativePortsOf(node).tcp, bytes());
      if (outcome === 'closed') {
        expect(closed).toBe(true);
        expect(data.length).toBe(0);
      } else {
        expect(responseCodeOf(data)).toBe(code);
        expect(data.readInt32BE(8)).toBe(4242); // answered to the request's id
      }
      const after = await overTcp(nativePortsOf(node).tcp, valid());
      expect(responseCodeOf(after.data)).toBe(1);
    });

    it.each(cases.filter(([, , outcome]) => outcome === 'error'))('UDP: %s', async (_what, bytes, _outcome, code) => {
      const answer = await overUdp(nativePortsOf(node).udp, bytes());
      expect(answer && responseCodeOf(answer)).toBe(code);
      const after = await overUdp(nativePortsOf(node).udp, valid());
      expect(after && responseCodeOf(after)).toBe(1);
    });

    it('HTTP: a body over the message limit is 413, a short one 400, and the node still answers', async () => {
      const url = `http://127.0.0.1:${nativePortsOf(node).http}`;
      const big = await fetch(`${url}/`, { method: 'POST', body: Buffer.alloc(300_000) }).catch(() => undefined);
      expect(big === undefined || big.status === 413).toBe(true);
      expect((await fetch(`${url}/`, { method: 'POST', body: Buffer.from([1, 2, 3]) })).status).toBe(400);
      const ok = await fetch(`${url}/`, { method: 'POST', body: valid(), headers: { 'content-type': 'application/x-hdl-message' } });
      expect(ok.status).toBe(200);
      expect(responseCodeOf(Buffer.from(await ok.arrayBuffer()))).toBe(1);
    });
  });
});
