import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Redis } from '@iip/platform-redis';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { HandleValueView } from '../identifiers/dto/handle-value.dto';
import { IDENTIFIER_REDIS } from './record-cache';
import { ResolveFilters } from './resolve-filters';

export const REMOTE_SETTINGS = Symbol('REMOTE_SETTINGS');
export const HOPS_HEADER = 'x-iip-hops';

/** Delegations followed so far, as the node that delegated here counted them (0 when absent or malformed). */
export function hopsOf(headers: IncomingHttpHeaders): number {
  const hops = Number(headers[HOPS_HEADER] ?? 0);
  return Number.isInteger(hops) && hops >= 0 ? hops : 0;
}

export interface RemoteSettings {
  staleWindowS: number;
  maxHops: number;
  timeoutMs: number;
}

/** A delegated node's answer, kept for its TTL and, if that node goes down, a stale window after. */
interface RemoteAnswer {
  status: number;
  body: { responseCode: number; handle?: string; values?: HandleValueView[]; message?: string };
  freshUntil: number;
  staleUntil: number;
}

export interface RemoteResult {
  status: number;
  body: RemoteAnswer['body'];
  source: 'remote' | 'remote-cache' | 'remote-stale';
}

const NOT_FOUND_TTL_S = 5;

/**
 * Recursive resolution: asks the node a prefix is delegated to, over the same Handle REST API,
 * anonymously (so only public values cross nodes). Answers are cached for their TTL, not-found
 * answers briefly; when the node fails, a cached answer is served for a bounded stale window,
 * marked stale; a hop count in a header stops delegation loops.
 */
@Injectable()
export class RemoteResolver {
  private readonly memory = new LRUCache<string, RemoteAnswer>({ max: 50_000 });

  constructor(
    @Inject(IDENTIFIER_REDIS) private readonly redis: Redis,
    @Inject(REMOTE_SETTINGS) private readonly settings: RemoteSettings,
  ) {}

  async resolve(baseUrl: string, handle: string, filters: ResolveFilters, hops: number, authoritative: boolean): Promise<RemoteResult> {
    if (hops >= this.settings.maxHops) {
      throw new IdentifierError(
        IdentifierErrorCode.RECURSION_LIMIT,
        `Gave up after ${hops} delegations: the delegation of ${handle} loops or is too deep`,
      );
    }
    const url = `${baseUrl.replace(/\/$/, '')}/api/handles/${handle.split('/').map(encodeURIComponent).join('/')}${query(filters)}`;
    const cacheKey = `remote:${url}`;
    const now = Date.now();
    const cached = authoritative ? undefined : (this.memory.get(cacheKey) ?? (await this.fromRedis(cacheKey)));
    if (cached && cached.freshUntil > now) return { status: cached.status, body: cached.body, source: 'remote-cache' };

    let answer: RemoteAnswer;
    try {
      const res = await fetch(url, {
        headers: { accept: 'application/json', [HOPS_HEADER]: String(hops + 1) },
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      const body = (await res.json()) as RemoteAnswer['body'];
      if (typeof body?.responseCode !== 'number') throw new Error(`${baseUrl} did not answer in the Handle format`);
      // Their loop is our loop: pass the recursion error back as it is.
      if (res.status === 508) throw new IdentifierError(IdentifierErrorCode.RECURSION_LIMIT, body.message ?? 'delegation loop');
      if (res.status >= 500) throw new Error(`${baseUrl} answered ${res.status}`);
      // "Values not found" is HTTP 200 too, with no values: kept as briefly as a not-found answer.
      const ttlS = res.status === 200 && body.values?.length ? Math.min(86_400, ...body.values.map((v) => v.ttl)) : NOT_FOUND_TTL_S;
      answer = { status: res.status, body, freshUntil: now + ttlS * 1000, staleUntil: now + (ttlS + this.settings.staleWindowS) * 1000 };
    } catch (err) {
      if (err instanceof IdentifierError) throw err;
      if (cached && cached.staleUntil > now) return { status: cached.status, body: cached.body, source: 'remote-stale' };
      throw new IdentifierError(
        IdentifierErrorCode.UPSTREAM_UNAVAILABLE,
        `The node responsible for ${handle} (${baseUrl}) did not answer: ${(err as Error).message}`,
      );
    }
    this.memory.set(cacheKey, answer, { ttl: answer.staleUntil - now });
    await this.redis.set(cacheKey, JSON.stringify(answer), answer.staleUntil - now);
    return { status: answer.status, body: answer.body, source: 'remote' };
  }

  private async fromRedis(key: string): Promise<RemoteAnswer | undefined> {
    const raw = await this.redis.get(key);
    if (!raw) return undefined;
    const answer = JSON.parse(raw) as RemoteAnswer;
    this.memory.set(key, answer, { ttl: Math.max(1, answer.staleUntil - Date.now()) });
    return answer;
  }
}

function query(filters: ResolveFilters): string {
  const params = new URLSearchParams();
  filters.types.forEach((t) => params.append('type', t));
  filters.indexes.forEach((i) => params.append('index', String(i)));
  const q = params.toString();
  return q ? `?${q}` : '';
}
