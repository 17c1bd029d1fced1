import { HandleValueView } from '../identifiers/dto/handle-value.dto';
import {
  Permission,
  SiteRecord,
  WireValue,
  addressBytes,
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
