import { HandleValueView } from '../identifiers/dto/handle-value.dto';
import { HandleValueInput } from '../identifiers/dto/handle-value.schema';
import { NODE_LEVEL_TYPES } from '../identifiers/reserved-values';
import {
  Permission,
  ResponseCode,
  SiteRecord,
  WireError,
  WireValue,
  addressBytes,
  decodeAdminRecord,
  decodeValueList,
  encodeAdminRecord,
  encodeSiteRecord,
  encodeValueList,
} from './handle-wire';

/** The node's own site as its prefix record publishes it (HS_SITE, RFC 3651 §3.2.1), in the Handle REST API's JSON form. */
export interface SiteJson {
  version: number;
  protocolVersion: string;
  serialNumber: number;
  primaryMask: { primary: boolean; multiPrimary: boolean };
  hashOption: number;
  hashFilter: string;
  attributes: { name: string; value: string }[];
  servers: {
    serverId: number;
    address: string;
    publicKey: { format: 'base64'; value: string };
    interfaces: { query: boolean; admin: boolean; protocol: 'UDP' | 'TCP' | 'HTTP'; port: number }[];
  }[];
}

const PROTOCOL_CODES = { UDP: 0, TCP: 1, HTTP: 2 } as const;

/** The site record of a JSON HS_SITE value; undefined when the JSON is not one. */
export function siteRecordOf(value: unknown): SiteRecord | undefined {
  const site = value as Partial<SiteJson> | null;
  if (!site || typeof site !== 'object' || !Array.isArray(site.servers)) return undefined;
  return {
    serialNumber: Number(site.serialNumber) || 1,
    primary: site.primaryMask?.primary !== false,
    attributes: (site.attributes ?? []).filter((a) => typeof a?.name === 'string' && typeof a.value === 'string'),
    servers: site.servers.map((s, i) => ({
      serverId: Number(s.serverId) || i + 1,
      address: addressBytes(String(s.address ?? '0.0.0.0')),
      publicKey: Buffer.from(typeof s.publicKey?.value === 'string' ? s.publicKey.value : '', 'base64'),
      interfaces: (s.interfaces ?? []).map((f) => ({
        type: (f.admin ? 1 : 0) | (f.query ? 2 : 0),
        protocol: PROTOCOL_CODES[f.protocol] ?? 1,
        port: Number(f.port) || 0,
      })),
    })),
  };
}

/** The bytes of a value's data, as the Handle System stores them (RFC 3651 §3.1 and §3.2). */
export function valueData(view: HandleValueView): Buffer {
  const { format, value } = view.data;
  switch (format) {
    case 'string':
      return Buffer.from(String(value), 'utf8');
    case 'hex':
      return Buffer.from(String(value), 'hex');
    case 'base64':
    case 'key':
      return Buffer.from(String(value), 'base64');
    case 'admin': {
      const admin = value as { handle: string; index: number; permissions: string };
      return encodeAdminRecord(admin.handle, admin.index, admin.permissions);
    }
    case 'vlist':
      return encodeValueList(value as { handle: string; index: number }[]);
    case 'site': {
      const record = siteRecordOf(value);
      return record ? encodeSiteRecord(record) : Buffer.from(JSON.stringify(value), 'utf8');
    }
    default:
      return Buffer.from(JSON.stringify(value), 'utf8');
  }
}

/** A readable value as the binary protocol sends it: public read (only public values leave on this path). */
export function wireValue(view: HandleValueView): WireValue {
  const stamp = view.timestamp ? Date.parse(view.timestamp) : NaN;
  return {
    index: view.index,
    timestamp: Number.isFinite(stamp) ? Math.floor(stamp / 1000) : 0,
    ttlType: 0,
    ttl: view.ttl ?? 86_400,
    permissions: Permission.ADMIN_READ | Permission.ADMIN_WRITE | Permission.PUBLIC_READ,
    type: view.type,
    data: valueData(view),
    references: [],
  };
}

/** Bytes that are UTF-8 text as they stand (decoding and encoding gives them back). */
export function utf8Text(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

const invalidValue = (index: number, message: string) => new WireError(`Value ${index}: ${message}`, ResponseCode.INVALID_VALUE);

/** A value's data in the Handle REST API's representation for its type. */
function inputData(index: number, type: string, data: Buffer): HandleValueInput['data'] {
  const base64 = (): HandleValueInput['data'] => ({ format: 'base64', value: data.toString('base64') });
  const text = utf8Text(data);
  try {
    switch (type) {
      case 'HS_ADMIN':
        return { format: 'admin', value: decodeAdminRecord(data) };
      case 'HS_VLIST':
        return { format: 'vlist', value: decodeValueList(data) };
      case 'HS_PUBKEY':
        return { format: 'key', value: data.toString('base64') };
      default:
        return text === undefined ? base64() : { format: 'string', value: text };
    }
  } catch (err) {
    throw invalidValue(index, `its ${type} data cannot be read (${(err as Error).message})`);
  }
}

/**
 * A value as a native administration request sends it, in the form the REST API and every
 * write rule take: the same schema, reserved-type and template checks apply after this. The
 * public-read flag decides the access (public, or the owning tenant's); a relative or absolute
 * TTL becomes seconds from now; the timestamp is the server's.
 */
export function inputValue(wire: WireValue): HandleValueInput {
  const type = utf8Text(Buffer.isBuffer(wire.type) ? wire.type : Buffer.from(wire.type, 'utf8'));
  if (type === undefined) throw invalidValue(wire.index, 'its type is not valid UTF-8');
  if (NODE_LEVEL_TYPES.has(type)) {
    throw invalidValue(wire.index, `${type} describes the node; the platform operator writes it with PUT /api/handles`);
  }
  if (wire.references.length > 0) {
    throw invalidValue(wire.index, 'value references are not stored by this node; send the value without them');
  }
  const ttl = wire.ttlType === 1 ? Math.max(0, wire.ttl - Math.floor(Date.now() / 1000)) : wire.ttl;
  if (wire.ttlType > 1 || ttl < 0) throw invalidValue(wire.index, `TTL type ${wire.ttlType} with TTL ${wire.ttl} is not a TTL`);
  return {
    index: wire.index,
    type,
    data: inputData(wire.index, type, wire.data),
    ttl,
    access: wire.permissions & Permission.PUBLIC_READ ? 'public' : 'tenant',
  };
}
