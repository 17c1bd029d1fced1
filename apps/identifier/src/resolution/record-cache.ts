import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { IdentifierChangedData } from '@iip/contracts';
import { TenantRef } from '@iip/platform-auth';
import { Redis } from '@iip/platform-redis';
import { ValueAccess } from '../identifiers/identifier.entity';

export const CACHE_SETTINGS = Symbol('CACHE_SETTINGS');
export const IDENTIFIER_REDIS = Symbol('IDENTIFIER_REDIS');

export interface CachedValue {
  idx: number;
  type: string;
  format: string;
  value: unknown;
  ttl: number;
  access: ValueAccess;
  grantees: string[];
  updatedAt: string;
}

/** A whole record with everything needed to filter it per caller, or the fact that there is none. */
export type CachedRecord = { found: true; handle: string; version: number; owner?: TenantRef; values: CachedValue[] } | { found: false };

export type CacheSource = 'memory' | 'redis' | 'database';

export interface CacheSettings {
  /** Upper bound of the in-process cache, bytes (estimated). */
  maxBytes: number;
}

const NOT_FOUND_TTL_MS = 2_000;
const MAX_TTL_S = 86_400;

/**
 * Resolution cache: a bounded in-process LRU in front of Redis in front of PostgreSQL. Entries
 * live as long as the shortest TTL among their values; writers invalidate after commit and every
 * instance drops its copy when the change feed announces a newer version.
 */
@Injectable()
export class RecordCache {
  private readonly memory: LRUCache<string, CachedRecord>;

  constructor(
    @Inject(IDENTIFIER_REDIS) private readonly redis: Redis,
    @Inject(CACHE_SETTINGS) settings: CacheSettings,
  ) {
    // Bounded in bytes, not records: one record may hold 3 values or 500.
    this.memory = new LRUCache({ maxSize: settings.maxBytes, ttlAutopurge: false });
  }

  /** The record if this instance holds it in memory (no I/O): the resolution fast path. */
  peek(key: string): CachedRecord | undefined {
    return this.memory.get(key);
  }

  async get(key: string, load: () => Promise<CachedRecord>): Promise<{ record: CachedRecord; source: CacheSource }> {
    const inMemory = this.memory.get(key);
    if (inMemory) {
      return { record: inMemory, source: 'memory' };
    }
    const fromRedis = await this.redis.get(redisKey(key));
    if (fromRedis) {
      const record = JSON.parse(fromRedis) as CachedRecord;
      this.memory.set(key, record, { ttl: ttlMs(record), size: memoryBytes(fromRedis) });
      return { record, source: 'redis' };
    }
    const record = await load();
    const json = JSON.stringify(record);
    this.memory.set(key, record, { ttl: ttlMs(record), size: memoryBytes(json) });
    if (record.found) await this.redis.set(redisKey(key), json, ttlMs(record));
    return { record, source: 'database' };
  }

  /** After a committed write on this instance: drop the records here and in Redis (a command per 1,000 keys). */
  async invalidate(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    keys.forEach((k) => this.memory.delete(k));
    const chunks: Promise<unknown>[] = [];
    for (let i = 0; i < keys.length; i += 1000) chunks.push(this.redis.del(keys.slice(i, i + 1000).map(redisKey)));
    await Promise.all(chunks);
  }

  /**
   * A change announced on the feed: drop copies older than the announced version. For a new
   * registration only this instance's memory can be behind (a not-found answer): Redis never
   * holds not-found answers and the writer dropped the key there after its commit.
   */
  async changed(key: string, version: number, change: IdentifierChangedData['change']): Promise<void> {
    const cached = this.memory.get(key);
    if (!cached || !cached.found || cached.version < version) this.memory.delete(key);
    if (change === 'registered') return;
    const shared = await this.redis.get(redisKey(key));
    if (shared) {
      const record = JSON.parse(shared) as CachedRecord;
      if (!record.found || record.version < version) await this.redis.del([redisKey(key)]);
    }
  }
}

/**
 * What a cached record costs the heap, estimated from its JSON: the parsed objects (two-byte
 * strings, object headers) and the serialised public answer kept beside it come to about
 * three times the JSON's length.
 */
function memoryBytes(json: string): number {
  return json.length * 3 + 200;
}

/** Versioned with the shape of the values it holds: `rec2` since HS_ADMIN became public and lost its tenant id. */
function redisKey(key: string): string {
  return `rec2:${key}`;
}

function ttlMs(record: CachedRecord): number {
  if (!record.found) return NOT_FOUND_TTL_MS;
  const shortest = Math.min(MAX_TTL_S, ...record.values.map((v) => v.ttl));
  return Math.max(1, shortest) * 1000;
}
