import { Inject, Injectable } from '@nestjs/common';
import { Principal, TenantRef, canManage } from '@iip/platform-auth';
import { isHandleSyntaxError, parentPrefixes, parseHandle, parsePrefixRecord, prefixRecordHandle } from '../handles/handle-syntax';
import { HandleResponseCode, IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { DelegationsRepository } from '../prefixes/delegations.repository';
import { HandleValueView } from '../identifiers/dto/handle-value.dto';
import type { ServerResponse } from 'node:http';
import { IdentifierValueEntity, ValueAccess } from '../identifiers/identifier.entity';
import { IdentifiersRepository } from '../identifiers/identifiers.repository';
import { ADMIN_INDEX, adminValue } from '../identifiers/values';
import { ownerRef } from '../prefixes/prefix.entity';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from '../prefixes/prefixes.service';
import { CacheSource, CachedRecord, CachedValue, RecordCache } from './record-cache';
import { RemoteResolver, RemoteResult } from './remote-resolver';
import { ResolveFilters, matchesFilters } from './resolve-filters';
import { ResolutionStatsService } from '../statistics/resolution-stats.service';

/** Delegations change rarely, but a moved node should be found again within the hour. */
const DELEGATION_RECORD_TTL_S = 3_600;
/** Index of the HS_SITE value in a hosted prefix record. */
const SITE_INDEX = 3;

export interface Resolution {
  /** 1, or 200 (values not found) when the filters select none of the readable values: an answer, not an error, in resolution. */
  responseCode: typeof HandleResponseCode.SUCCESS | typeof HandleResponseCode.VALUES_NOT_FOUND;
  handle: string;
  values: HandleValueView[];
  /** Where the record came from: in-process cache, Redis, PostgreSQL, or a delegated node. */
  source: CacheSource | RemoteResult['source'];
}

/** A delegated node's Handle response code, as this node's own error. */
function remoteError(responseCode: number, message: string): IdentifierError {
  switch (responseCode) {
    case HandleResponseCode.HANDLE_NOT_FOUND:
      return new IdentifierError(IdentifierErrorCode.HANDLE_NOT_FOUND, message);
    case HandleResponseCode.INVALID_HANDLE:
      return new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, message);
    case HandleResponseCode.SERVER_NOT_RESPONSIBLE:
      return new IdentifierError(IdentifierErrorCode.SERVER_NOT_RESPONSIBLE, message);
    case HandleResponseCode.AUTHENTICATION_NEEDED:
      return new IdentifierError(IdentifierErrorCode.AUTHENTICATION_NEEDED, message);
    default:
      return new IdentifierError(IdentifierErrorCode.UPSTREAM_UNAVAILABLE, message);
  }
}

/**
 * Who may read a value: public ones anyone; tenant ones the owner and those above it; granted ones
 * also the grantees. An HS_SECKEY is never public, whatever it was stored with.
 */
export function mayRead(
  value: Pick<IdentifierValueEntity, 'type' | 'access' | 'grantees'>,
  owner: TenantRef | undefined,
  caller: Principal | undefined,
): boolean {
  if (value.access === 'public' && value.type !== 'HS_SECKEY') return true;
  if (!caller) return false;
  if (owner && canManage(caller.tenant, owner)) return true;
  return value.access === 'granted' && value.grantees.includes(caller.tenant.id);
}

function valueView(v: CachedValue): HandleValueView {
  return { index: v.idx, type: v.type, data: { format: v.format, value: v.value }, ttl: v.ttl, timestamp: v.updatedAt };
}

/** A resolution as the Handle REST API's body, HTTP 200 either way: success (1) or values not found (200, no values). */
export function handleAnswer(result: Pick<Resolution, 'responseCode' | 'handle' | 'values'>) {
  return { responseCode: result.responseCode, handle: result.handle, values: result.values };
}

/** Headers that say where an answer came from (REST controller and fast path alike). */
export function setResolutionHeaders(res: ServerResponse, source: Resolution['source']): void {
  res.setHeader('X-IIP-Resolution-Source', source);
  if (source === 'remote-stale') res.setHeader('Warning', '110 - "Response is Stale"');
}

/** A value of a record this node makes up rather than stores (prefix records). */
function syntheticValue(
  stamp: Date,
  ttl: number,
  idx: number,
  type: string,
  format: string,
  value: unknown,
  access: ValueAccess,
): CachedValue {
  return { idx, type, format, value, ttl, access, grantees: [], updatedAt: stamp.toISOString() };
}

const NO_FILTERS: ResolveFilters = { types: [], indexes: [] };

/** How {@link ResolutionService.cachedPublicAnswerAs} encodes answers, and where it keeps them (null: nothing public). */
export interface PublicAnswerEncoding {
  readonly answers: WeakMap<object, Buffer | null>;
  encode(answer: Resolution): Buffer;
}

/** The one answer for a handle that is not there, or not there for this caller. */
function notFound(handle: string): IdentifierError {
  return new IdentifierError(IdentifierErrorCode.HANDLE_NOT_FOUND, `${handle} was not found`);
}

/** Resolution of identifiers and prefix records this node hosts, within what the caller may read. */
@Injectable()
export class ResolutionService {
  /** Serialised anonymous REST answers (null: nothing public), living exactly as long as the cached record they were made from. */
  private readonly restAnswers: PublicAnswerEncoding = {
    answers: new WeakMap<CachedRecord, Buffer | null>(),
    encode: (answer) => Buffer.from(JSON.stringify(handleAnswer(answer))),
  };

  constructor(
    private readonly identifiers: IdentifiersRepository,
    private readonly prefixes: PrefixesService,
    private readonly cache: RecordCache,
    private readonly delegations: DelegationsRepository,
    private readonly remote: RemoteResolver,
    private readonly stats: ResolutionStatsService,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  /**
   * The anonymous, unfiltered answer for a record this instance holds in memory, as the bytes
   * of a Handle response — computed once per cached record — or undefined when the full path
   * must answer (not cached here, not hosted here, not found, not public, or not a handle).
   */
  cachedPublicAnswer(input: string): Buffer | undefined {
    return this.cachedPublicAnswerAs(input, this.restAnswers);
  }

  /**
   * cachedPublicAnswer in any wire format (the gRPC and native fast paths'): the same anonymous,
   * unfiltered answer for a record this instance holds in memory, as `encoding` encodes it —
   * once per cached record, kept in `encoding.answers` no longer than the record — or undefined
   * when the full path must answer.
   */
  cachedPublicAnswerAs(input: string, encoding: PublicAnswerEncoding): Buffer | undefined {
    const parsed = parseHandle(input);
    if (isHandleSyntaxError(parsed)) return undefined; // prefix records (0.NA/…) land here too
    if (!this.prefixes.peekHosted(parsed.prefix)?.row) return undefined;
    const record = this.cache.peek(parsed.key);
    if (!record?.found) return undefined;
    let bytes = encoding.answers.get(record);
    if (bytes === undefined) {
      try {
        bytes = encoding.encode(this.visible(record.handle, record.values, record.owner, undefined, NO_FILTERS, 'memory'));
      } catch {
        bytes = null;
      }
      encoding.answers.set(record, bytes);
    }
    // Nothing public: the full path answers, exactly as for a missing handle (which is not found here either).
    if (bytes === null) return undefined;
    this.stats.count(parsed.prefix);
    return bytes;
  }

  /** `authoritative` (Handle API `auth=true`) skips the caches and reads PostgreSQL. */
  async resolve(
    caller: Principal | undefined,
    input: string,
    filters: ResolveFilters,
    authoritative = false,
    hops = 0,
  ): Promise<Resolution> {
    const prefixRecord = parsePrefixRecord(input);
    if (prefixRecord !== undefined) return this.resolvePrefix(caller, prefixRecord, filters);
    const parsed = parseHandle(input);
    if (isHandleSyntaxError(parsed))
      throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, parsed.message, { problem: parsed.problem });
    this.stats.count(parsed.prefix);
    const hosted = await this.prefixes.hostedPrefixFor(parsed.prefix);
    if (!hosted) return this.resolveElsewhere(parsed.handle, parsed.prefix, filters, authoritative, hops);
    const load = async (): Promise<CachedRecord> => {
      const stored = await this.identifiers.findResolvable(parsed.key);
      return stored ? { found: true, ...stored } : { found: false };
    };
    const { record, source } = authoritative
      ? { record: await load(), source: 'database' as const }
      : await this.cache.get(parsed.key, load);
    if (!record.found) throw notFound(parsed.handle);
    return this.visible(record.handle, record.values, record.owner, caller, filters, source, parsed.handle);
  }

  /**
   * Where a handle this node does not host is served, for a native client that did not ask for
   * recursion (a Handle service referral): the prefix record of the most specific delegation and
   * the HS_SITE values it publishes. Undefined when this node hosts the handle's prefix (answer it
   * here); 301 when nothing is delegated, or the node delegated to publishes no site.
   */
  async referral(input: string): Promise<{ handle: string; sites: HandleValueView[] } | undefined> {
    const prefixRecord = parsePrefixRecord(input);
    let prefix: string;
    if (prefixRecord !== undefined) prefix = prefixRecord;
    else {
      const parsed = parseHandle(input);
      if (isHandleSyntaxError(parsed))
        throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, parsed.message, { problem: parsed.problem });
      prefix = parsed.prefix;
    }
    const hosted = await this.prefixes.hostedPrefixFor(prefix);
    // A top-level node answers for the prefix records of what it delegates itself.
    if (hosted || (prefixRecord !== undefined && this.node.role === 'top-level')) return undefined;
    const delegation = await this.delegations.findFirst(parentPrefixes(prefix));
    if (!delegation)
      throw new IdentifierError(IdentifierErrorCode.SERVER_NOT_RESPONSIBLE, `This node is not responsible for prefix ${prefix}`);
    const referralHandle = prefixRecordHandle(delegation.prefix);
    const answer = await this.remote.resolve(delegation.baseUrl, referralHandle, { types: ['HS_SITE'], indexes: [] }, 0, false);
    const sites = answer.body.responseCode === HandleResponseCode.SUCCESS ? (answer.body.values ?? []) : [];
    if (sites.length === 0) {
      throw new IdentifierError(
        IdentifierErrorCode.SERVER_NOT_RESPONSIBLE,
        `Prefix ${prefix} is served by ${delegation.baseUrl}, which publishes no HS_SITE; ask again with recursion`,
      );
    }
    return { handle: referralHandle, sites };
  }

  private async resolvePrefix(caller: Principal | undefined, prefix: string, filters: ResolveFilters): Promise<Resolution> {
    const hosted = await this.prefixes.hostedPrefixFor(prefix);
    if (!hosted) return this.delegatedPrefixRecord(caller, prefix, filters);
    if (hosted.prefix !== prefix)
      throw new IdentifierError(IdentifierErrorCode.HANDLE_NOT_FOUND, `Prefix ${prefix} has not been allocated`);
    const values = [
      syntheticValue(hosted.createdAt, 86_400, 1, 'IIP_PREFIX_KIND', 'string', hosted.kind, 'public'),
      syntheticValue(hosted.createdAt, 86_400, ADMIN_INDEX, 'HS_ADMIN', 'admin', adminValue(hosted.prefix), 'public'),
    ];
    // Where the node's native Handle interfaces are, as the Handle System's prefix records say it.
    if (this.node.site)
      values.splice(1, 0, syntheticValue(hosted.createdAt, 86_400, SITE_INDEX, 'HS_SITE', 'site', this.node.site, 'public'));
    return this.visible(prefixRecordHandle(prefix), values, ownerRef(hosted), caller, filters, 'database');
  }

  /**
   * A top-level node publishes the prefix records of the prefixes it delegates, as the Handle
   * System's global registry does: the record names the node responsible, so a client can ask it
   * directly. A secondary node's delegations are its own routes, not published.
   */
  private async delegatedPrefixRecord(caller: Principal | undefined, prefix: string, filters: ResolveFilters): Promise<Resolution> {
    const delegation = this.node.role === 'top-level' ? await this.delegations.findFirst([prefix]) : undefined;
    if (!delegation)
      throw new IdentifierError(IdentifierErrorCode.SERVER_NOT_RESPONSIBLE, `This node is not responsible for prefix ${prefix}`);
    const values = [
      syntheticValue(delegation.createdAt, DELEGATION_RECORD_TTL_S, 1, 'IIP_PREFIX_KIND', 'string', 'delegated', 'public'),
      syntheticValue(delegation.createdAt, DELEGATION_RECORD_TTL_S, 2, 'IIP_NODE_URL', 'string', delegation.baseUrl, 'public'),
    ];
    return this.visible(prefixRecordHandle(prefix), values, undefined, caller, filters, 'database');
  }

  /** Follows the most specific delegation of the prefix to the node responsible for it. */
  private async resolveElsewhere(
    handle: string,
    prefix: string,
    filters: ResolveFilters,
    authoritative: boolean,
    hops: number,
  ): Promise<Resolution> {
    const delegation = await this.delegations.findFirst(parentPrefixes(prefix));
    if (!delegation)
      throw new IdentifierError(IdentifierErrorCode.SERVER_NOT_RESPONSIBLE, `This node is not responsible for prefix ${prefix}`);
    const answer = await this.remote.resolve(delegation.baseUrl, handle, filters, hops, authoritative);
    const { responseCode } = answer.body;
    if (responseCode === HandleResponseCode.VALUES_NOT_FOUND)
      return { responseCode, handle: answer.body.handle ?? handle, values: [], source: answer.source };
    if (responseCode !== HandleResponseCode.SUCCESS) {
      throw remoteError(responseCode, answer.body.message ?? `${delegation.baseUrl} answered ${responseCode}`);
    }
    return { responseCode, handle: answer.body.handle ?? handle, values: answer.body.values ?? [], source: answer.source };
  }

  /**
   * What the caller may read of a record. A record of which it may read nothing but the public
   * HS_ADMIN (which every record has) gets exactly the answer of one that does not exist — for
   * anonymous callers too — so a tenant-only handle's existence does not leak; its owner sees it
   * whatever it holds. `asked` is the handle as the caller wrote it, as that answer names it.
   * Filters that select none of the readable values answer "values not found" (200), no values.
   */
  private visible(
    handle: string,
    values: CachedValue[],
    owner: TenantRef | undefined,
    caller: Principal | undefined,
    filters: ResolveFilters,
    source: CacheSource,
    asked: string = handle,
  ): Resolution {
    const readable = values.filter((v) => mayRead(v, owner, caller));
    const manages = caller !== undefined && owner !== undefined && canManage(caller.tenant, owner);
    if (!manages && !readable.some((v) => v.idx !== ADMIN_INDEX)) throw notFound(asked);
    const selected = readable.filter((v) => matchesFilters(v, filters));
    const responseCode = selected.length === 0 ? HandleResponseCode.VALUES_NOT_FOUND : HandleResponseCode.SUCCESS;
    return { responseCode, handle, values: selected.map(valueView), source };
  }
}
