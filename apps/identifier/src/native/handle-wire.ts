/**
 * The Handle protocol's binary messages (RFC 3652 §2): envelope, header, bodies and the value
 * encoding of RFC 3651 §3, as the Handle System's own clients and servers write them (protocol
 * 2.1 and later). Reading is bounds-checked everywhere: a length that points past the message is
 * a protocol error, never an exception of another kind.
 */
import { createHash } from 'node:crypto';
import { HandleResponseCode } from '../identifier.errors';

export const ENVELOPE_SIZE = 20;
export const HEADER_SIZE = 24;
/** Largest message the Handle System accepts (Common.MAX_MESSAGE_LENGTH). */
export const MAX_MESSAGE_LENGTH = 262_144;
/** Data bytes of one UDP packet after its envelope (512-byte packets). */
export const MAX_UDP_DATA = 512 - ENVELOPE_SIZE;
/** The protocol version this server speaks (and suggests). */
export const PROTOCOL_MAJOR = 2;
export const PROTOCOL_MINOR = 11;

export const OpCode = {
  RESOLUTION: 1,
  GET_SITE_INFO: 2,
  CREATE_HANDLE: 100,
  DELETE_HANDLE: 101,
  ADD_VALUE: 102,
  REMOVE_VALUE: 103,
  MODIFY_VALUE: 104,
  LIST_HANDLES: 105,
  RESPONSE_TO_CHALLENGE: 200,
} as const;

/** The protocol's response codes: those the REST API reports too, and the ones only the binary protocol uses. */
export const ResponseCode = {
  ...HandleResponseCode,
  RESERVED: 0,
  SERVER_TOO_BUSY: 3,
  PROTOCOL_ERROR: 4,
  OPERATION_NOT_SUPPORTED: 5,
  SERVICE_REFERRAL: 302,
  INSUFFICIENT_PERMISSIONS: 401,
  AUTHENTICATION_FAILED: 403,
  INVALID_CREDENTIAL: 404,
} as const;

export const OpFlag = {
  AUTHORITATIVE: 0x80000000,
  CERTIFY: 0x40000000,
  ENCRYPT: 0x20000000,
  RECURSIVE: 0x10000000,
  CONTINUOUS: 0x04000000,
  KEEP_ALIVE: 0x02000000,
  PUBLIC_ONLY: 0x01000000,
  RETURN_DIGEST: 0x00800000,
  OVERWRITE: 0x00400000,
  MINT: 0x00200000,
  DO_NOT_REFER: 0x00100000,
} as const;

/** Per-value permission bits (RFC 3651 §3.1). */
export const Permission = { ADMIN_READ: 0x8, ADMIN_WRITE: 0x4, PUBLIC_READ: 0x2, PUBLIC_WRITE: 0x1 } as const;

const ENV_FLAG_COMPRESSED = 0x80;
const ENV_FLAG_ENCRYPTED = 0x40;
const ENV_FLAG_TRUNCATED = 0x20;
const HASH_SHA1 = 2;
const HASH_SHA256 = 3;

/** A message the server cannot read: answered with `responseCode` (PROTOCOL_ERROR unless said otherwise). */
export class WireError extends Error {
  constructor(
    message: string,
    readonly responseCode: number = ResponseCode.PROTOCOL_ERROR,
  ) {
    super(message);
  }
}

/** Bounds-checked reading of big-endian fields. */
export class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos = 0,
    private readonly end = buf.length,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw new WireError(`${what} runs past the end of the message`);
  }

  /** Skips reserved bytes. */
  skip(n: number): this {
    this.need(n, 'a reserved field');
    this.pos += n;
    return this;
  }

  byte(what = 'a byte'): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  int2(what = 'a 2-octet integer'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int(what = 'a 4-octet integer'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(what = 'a 4-octet integer'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A length-prefixed byte string (a view, not a copy). */
  bytes(what = 'a byte string'): Buffer {
    const length = this.int(`the length of ${what}`);
    if (length < 0) throw new WireError(`The length of ${what} is negative`);
    this.need(length, what);
    const v = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return v;
  }

  /** A count of items that follow, each at least `minItemSize` bytes: refused before any allocation when they cannot fit. */
  count(what: string, minItemSize: number, max: number): number {
    const n = this.int(`the number of ${what}`);
    if (n < 0 || n > max) throw new WireError(`The number of ${what} (${n}) is out of range`);
    if (n * minItemSize > this.remaining) throw new WireError(`${n} ${what} cannot fit in the rest of the message`);
    return n;
  }

  intArray(what: string, max: number): number[] {
    const n = this.count(what, 4, max);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.int(what));
    return out;
  }

  bytesArray(what: string, max: number): Buffer[] {
    const n = this.count(what, 4, max);
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) out.push(this.bytes(what));
    return out;
  }

  rest(): Buffer {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }
}

/** Accumulates big-endian fields into one buffer. */
export class Writer {
  private readonly parts: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  byte(v: number): this {
    return this.push(Buffer.from([v & 0xff]));
  }

  int2(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(v & 0xffff);
    return this.push(b);
  }

  int(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }

  bytes(v: Buffer | string): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    return this.int(b.length).push(b);
  }

  raw(b: Buffer): this {
    return this.push(b);
  }

  get length(): number {
    return this.size;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

export interface Envelope {
  major: number;
  minor: number;
  suggestMajor: number;
  suggestMinor: number;
  compressed: boolean;
  encrypted: boolean;
  truncated: boolean;
  sessionId: number;
  requestId: number;
  /** The packet's sequence number in a multi-packet UDP message. */
  messageId: number;
  messageLength: number;
}

export function decodeEnvelope(buf: Buffer): Envelope {
  if (buf.length < ENVELOPE_SIZE) throw new WireError(`The message envelope is ${buf.length} bytes, not ${ENVELOPE_SIZE}`);
  const flags = buf[2];
  const messageLength = buf.readInt32BE(16);
  if (messageLength < 0 || messageLength > MAX_MESSAGE_LENGTH) {
    throw new WireError(`The message length ${messageLength} is out of range (at most ${MAX_MESSAGE_LENGTH})`);
  }
  let suggestMajor = flags & 0x03;
  let suggestMinor = buf[3];
  if (suggestMajor === 0) {
    suggestMajor = buf[0];
    suggestMinor = buf[1];
  }
  return {
    major: buf[0],
    minor: buf[1],
    suggestMajor,
    suggestMinor,
    compressed: (flags & ENV_FLAG_COMPRESSED) !== 0,
    encrypted: (flags & ENV_FLAG_ENCRYPTED) !== 0,
    truncated: (flags & ENV_FLAG_TRUNCATED) !== 0,
    sessionId: buf.readInt32BE(4),
    requestId: buf.readInt32BE(8),
    messageId: buf.readInt32BE(12),
    messageLength,
  };
}

export function encodeEnvelope(env: Envelope): Buffer {
  const b = Buffer.alloc(ENVELOPE_SIZE);
  b[0] = env.major;
  b[1] = env.minor;
  b[2] =
    (env.compressed ? ENV_FLAG_COMPRESSED : 0) |
    (env.encrypted ? ENV_FLAG_ENCRYPTED : 0) |
    (env.truncated ? ENV_FLAG_TRUNCATED : 0) |
    (env.suggestMajor & 0x03);
  b[3] = env.suggestMinor;
  b.writeInt32BE(env.sessionId | 0, 4);
  b.writeInt32BE(env.requestId | 0, 8);
  b.writeInt32BE(env.messageId | 0, 12);
  b.writeInt32BE(env.messageLength, 16);
  return b;
}

export interface Header {
  opCode: number;
  responseCode: number;
  opFlags: number;
  siteInfoSerial: number;
  recursionCount: number;
  expiration: number;
  bodyLength: number;
}

/** A request as received: its header, its body (to decode by op code) and the bytes its digest covers. */
export interface RawRequest {
  envelope: Envelope;
  header: Header;
  body: Buffer;
  /** Header and body: what a request digest is taken over (RFC 3652 §2.2.3). */
  headerAndBody: Buffer;
}

/** Splits a message (everything after the envelope) into header, body and credential. */
export function decodeRequest(envelope: Envelope, message: Buffer): RawRequest {
  if (message.length !== envelope.messageLength) {
    throw new WireError(`The envelope announces ${envelope.messageLength} bytes, the message has ${message.length}`);
  }
  if (envelope.encrypted || envelope.compressed) {
    throw new WireError(
      'Encrypted and compressed messages need a session, which this server does not offer',
      ResponseCode.OPERATION_NOT_SUPPORTED,
    );
  }
  if (!(envelope.major > 2 || (envelope.major === 2 && envelope.minor >= 1)) || envelope.major === 5) {
    throw new WireError(`Protocol version ${envelope.major}.${envelope.minor} is not supported; use 2.1 or later`);
  }
  const r = new Reader(message);
  const header: Header = {
    opCode: r.int('the op code'),
    responseCode: r.int('the response code'),
    opFlags: r.uint('the op flags'),
    siteInfoSerial: r.int2('the site info serial number'),
    recursionCount: r.byte('the recursion count'),
    expiration: r.skip(1).uint('the expiration time'),
    bodyLength: r.int('the body length'),
  };
  if (header.responseCode !== ResponseCode.RESERVED) throw new WireError('A request carries response code 0 (this is a response)');
  if (header.bodyLength < 0 || header.bodyLength > r.remaining) {
    throw new WireError(`The body length ${header.bodyLength} runs past the end of the message`);
  }
  const body = message.subarray(HEADER_SIZE, HEADER_SIZE + header.bodyLength);
  const credential = new Reader(message, HEADER_SIZE + header.bodyLength);
  // The credential section (a signed request) is a length and that many bytes; a client may leave it out.
  if (credential.remaining > 0) credential.bytes('the credential');
  if (credential.remaining > 0) throw new WireError(`${credential.remaining} bytes follow the credential`);
  return { envelope, header, body, headerAndBody: message.subarray(0, HEADER_SIZE + header.bodyLength) };
}

/** The version to answer in: the client's, when it is older than ours. */
export function answerVersion(env: Envelope): { major: number; minor: number } {
  const older = env.major < PROTOCOL_MAJOR || (env.major === PROTOCOL_MAJOR && env.minor < PROTOCOL_MINOR);
  return older ? { major: env.major, minor: env.minor } : { major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR };
}

function atLeast(v: { major: number; minor: number }, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export interface ResolutionBody {
  handle: Buffer;
  indexes: number[];
  types: Buffer[];
}

export function decodeResolutionBody(body: Buffer): ResolutionBody {
  const r = new Reader(body);
  const handle = r.bytes('the handle');
  const indexes = r.intArray('requested indexes', 1024);
  const types = r.bytesArray('requested types', 1024);
  return { handle, indexes, types };
}

/** A generic request body: only a handle (GET_SITE_INFO, DELETE_HANDLE, LIST_HANDLES). */
export function decodeHandleBody(body: Buffer): Buffer {
  return new Reader(body).bytes('the handle');
}

/** A handle value in its RFC 3651 encoding. */
export interface WireValue {
  index: number;
  /** Seconds since the epoch. */
  timestamp: number;
  /** 0: relative TTL in seconds; 1: absolute expiry. */
  ttlType: number;
  ttl: number;
  permissions: number;
  type: Buffer | string;
  data: Buffer;
  references: { handle: string; index: number }[];
}

export function encodeValue(w: Writer, v: WireValue): void {
  w.int(v.index).int(v.timestamp).byte(v.ttlType).int(v.ttl).byte(v.permissions).bytes(v.type).bytes(v.data).int(v.references.length);
  for (const ref of v.references) w.bytes(ref.handle).int(ref.index);
}

export interface ResponseOptions {
  /** The op code answered: the request's, or the original request's for the answer to a challenge. */
  opCode: number;
  responseCode: number;
  body: Buffer;
  /** Include the digest of the request (asked for with RETURN_DIGEST, always with a challenge). */
  digest?: boolean;
  sessionId?: number;
  siteInfoSerial?: number;
  extraFlags?: number;
}

/** A digest of the request's header and body, as the answering version writes it (hash code and bytes). */
function requestDigest(req: RawRequest, version: { major: number; minor: number }): Buffer {
  const sha256 = atLeast(version, 2, 7);
  const hash = createHash(sha256 ? 'sha256' : 'sha1')
    .update(req.headerAndBody)
    .digest();
  return Buffer.concat([Buffer.from([sha256 ? HASH_SHA256 : HASH_SHA1]), hash]);
}

/** Envelope + header + body + empty credential: one response message. */
export function encodeResponse(req: RawRequest, options: ResponseOptions): { envelope: Envelope; message: Buffer } {
  const version = answerVersion(req.envelope);
  const withDigest = options.digest ?? (req.header.opFlags & OpFlag.RETURN_DIGEST) !== 0;
  const digest = withDigest ? requestDigest(req, version) : undefined;
  const bodyLength = (digest?.length ?? 0) + options.body.length;
  let flags = OpFlag.AUTHORITATIVE | (options.extraFlags ?? 0);
  if (withDigest) flags |= OpFlag.RETURN_DIGEST;
  if (req.header.opFlags & OpFlag.PUBLIC_ONLY) flags |= OpFlag.PUBLIC_ONLY;
  const w = new Writer()
    .int(options.opCode)
    .int(options.responseCode)
    .int(flags)
    .int2(options.siteInfoSerial ?? 0)
    .byte(req.header.recursionCount)
    .byte(0)
    .int(Math.floor(Date.now() / 1000) + 12 * 3600)
    .int(bodyLength);
  if (digest) w.raw(digest);
  w.raw(options.body).int(0); // no credential: responses are not signed (no CERTIFY support)
  const message = w.toBuffer();
  const envelope: Envelope = {
    major: version.major,
    minor: version.minor,
    suggestMajor: PROTOCOL_MAJOR,
    suggestMinor: PROTOCOL_MINOR,
    compressed: false,
    encrypted: false,
    truncated: false,
    sessionId: options.sessionId ?? req.envelope.sessionId,
    requestId: req.envelope.requestId,
    messageId: 0,
    messageLength: message.length,
  };
  return { envelope, message };
}

/** An error response: the code and a message (RFC 3652 §3.3). */
export function errorBody(message: string): Buffer {
  return new Writer().bytes(Buffer.from(message.slice(0, 512), 'utf8')).toBuffer();
}

/** The body of a successful resolution: the handle and its values. */
export function resolutionBody(handle: string, values: readonly WireValue[]): Buffer {
  const w = new Writer().bytes(handle).int(values.length);
  for (const v of values) encodeValue(w, v);
  return w.toBuffer();
}

/** An admin reference (HS_ADMIN data, RFC 3651 §3.2.2): permissions, then the admin handle and index. */
export function encodeAdminRecord(handle: string, index: number, permissionBits: string): Buffer {
  // The REST form writes the 12 flags from bit 11 (list handles) down to bit 0 (add handle).
  const permissions = /^[01]{12}$/.test(permissionBits) ? parseInt(permissionBits, 2) : 0;
  return new Writer().int2(permissions).bytes(handle).int(index).toBuffer();
}

/** A value reference list (HS_VLIST data). */
export function encodeValueList(refs: readonly { handle: string; index: number }[]): Buffer {
  const w = new Writer().int(refs.length);
  for (const ref of refs) w.bytes(ref.handle).int(ref.index);
  return w.toBuffer();
}

export interface SiteInterface {
  /** 1 admin, 2 query, 3 both. */
  type: number;
  /** 0 UDP, 1 TCP, 2 HTTP. */
  protocol: number;
  port: number;
}

export interface SiteServer {
  serverId: number;
  /** 16 bytes: IPv6, or IPv4 mapped into the last four. */
  address: Buffer;
  publicKey: Buffer;
  interfaces: SiteInterface[];
}

export interface SiteRecord {
  serialNumber: number;
  primary: boolean;
  attributes: { name: string; value: string }[];
  servers: SiteServer[];
}

/** HS_SITE data (RFC 3651 §3.2.1). */
export function encodeSiteRecord(site: SiteRecord): Buffer {
  const w = new Writer()
    .int2(1) // data format version
    .byte(PROTOCOL_MAJOR)
    .byte(PROTOCOL_MINOR)
    .int2(site.serialNumber)
    .byte(site.primary ? 0x80 : 0)
    .byte(0) // hash by prefix: one server, so every handle goes to it
    .bytes(Buffer.alloc(0))
    .int(site.attributes.length);
  for (const a of site.attributes) w.bytes(a.name).bytes(a.value);
  w.int(site.servers.length);
  for (const s of site.servers) {
    w.int(s.serverId).raw(s.address).bytes(s.publicKey).int(s.interfaces.length);
    for (const i of s.interfaces) w.byte(i.type).byte(i.protocol).int(i.port);
  }
  return w.toBuffer();
}

/** An address as the 16 bytes a site record holds: IPv4 mapped (::ffff:a.b.c.d), IPv6 as is. */
export function addressBytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    out[10] = 0xff;
    out[11] = 0xff;
    for (let i = 0; i < 4; i++) out[12 + i] = Number(v4[i + 1]);
    return out;
  }
  const [head, tail = ''] = address.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all: string[] = [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

/** Most values one administration request may carry (as many as a REST PUT takes). */
const MAX_REQUEST_VALUES = 500;
/** Smallest encoded value: index, timestamp, TTL type, TTL, permissions, type, data, references. */
const MIN_VALUE_SIZE = 4 + 4 + 1 + 4 + 1 + 4 + 4 + 4;

export function decodeValue(r: Reader): WireValue {
  const index = r.int('a value index');
  const timestamp = r.uint('a value timestamp');
  const ttlType = r.byte('a TTL type');
  const ttl = r.int('a TTL');
  const permissions = r.byte('value permissions');
  const type = r.bytes('a value type');
  const data = r.bytes('value data');
  const n = r.count('value references', 8, 1024);
  const references: { handle: string; index: number }[] = [];
  for (let i = 0; i < n; i++)
    references.push({ handle: r.bytes('a referenced handle').toString('utf8'), index: r.int('a referenced index') });
  return { index, timestamp, ttlType, ttl, permissions, type, data, references };
}

/** CREATE_HANDLE, ADD_VALUE and MODIFY_VALUE bodies: the handle and the values. */
export function decodeValuesBody(body: Buffer): { handle: Buffer; values: WireValue[] } {
  const r = new Reader(body);
  const handle = r.bytes('the handle');
  const n = r.count('values', MIN_VALUE_SIZE, MAX_REQUEST_VALUES);
  const values: WireValue[] = [];
  for (let i = 0; i < n; i++) values.push(decodeValue(r));
  if (r.remaining > 0) throw new WireError(`${r.remaining} bytes follow the values`);
  return { handle, values };
}

/** A REMOVE_VALUE body: the handle and the indexes to remove. */
export function decodeRemoveValueBody(body: Buffer): { handle: Buffer; indexes: number[] } {
  const r = new Reader(body);
  return { handle: r.bytes('the handle'), indexes: r.intArray('indexes', MAX_REQUEST_VALUES) };
}

/** A client's answer to a challenge (RFC 3652 §3.5.2). */
export interface ChallengeAnswer {
  authType: Buffer;
  identityHandle: Buffer;
  identityIndex: number;
  signedResponse: Buffer;
}

export function decodeChallengeAnswer(body: Buffer): ChallengeAnswer {
  const r = new Reader(body);
  return {
    authType: r.bytes('the authentication type'),
    identityHandle: r.bytes('the identity handle'),
    identityIndex: r.int('the identity index'),
    signedResponse: r.bytes('the signed response'),
  };
}

/** A challenge's body after the request digest: the nonce (RFC 3652 §3.5.1). */
export function challengeBody(nonce: Buffer): Buffer {
  return new Writer().bytes(nonce).toBuffer();
}

/** The request digest as a challenge carries it, for the answer to be checked against: hash code and bytes. */
export function challengeDigest(req: RawRequest): Buffer {
  return requestDigest(req, answerVersion(req.envelope));
}

/** HS_ADMIN data: the admin handle, its index and the 12 permission flags in the REST form. */
export function decodeAdminRecord(data: Buffer): { handle: string; index: number; permissions: string } {
  const r = new Reader(data);
  const permissions = r.int2('admin permissions');
  const handle = r.bytes('the admin handle').toString('utf8');
  const index = r.int('the admin index');
  return { handle, index, permissions: (permissions & 0xfff).toString(2).padStart(12, '0') };
}

/** HS_VLIST data: the handle/index references it lists. */
export function decodeValueList(data: Buffer): { handle: string; index: number }[] {
  const r = new Reader(data);
  const n = r.count('references', 8, 1024);
  const refs: { handle: string; index: number }[] = [];
  for (let i = 0; i < n; i++) refs.push({ handle: r.bytes('a referenced handle').toString('utf8'), index: r.int('a referenced index') });
  if (r.remaining > 0) throw new WireError(`${r.remaining} bytes follow the value list`, ResponseCode.INVALID_VALUE);
  return refs;
}

/** A CREATE_HANDLE answer: the handle created (the server's pick when the client asked it to mint one). */
export function createdBody(handle: string): Buffer {
  return new Writer().bytes(handle).toBuffer();
}

/** A LIST_HANDLES answer's body: the handles of one page. */
export function handleListBody(handles: readonly string[]): Buffer {
  const w = new Writer().int(handles.length);
  for (const h of handles) w.bytes(h);
  return w.toBuffer();
}
