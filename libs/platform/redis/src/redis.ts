import { createClient } from 'redis';
import { HealthIndicator } from '@iip/platform-observability';

type Client = ReturnType<typeof createClient>;

interface RedisLogger {
  warn(obj: object, msg: string): void;
}

/**
 * The platform's Redis: node-redis (the client Redis's maintainers recommend) behind the few
 * operations services use, every key carrying the service's prefix (and a test run's), so runs
 * never collide. Redis only holds what can be rebuilt from PostgreSQL or Kafka.
 */
export class Redis {
  constructor(
    private readonly client: Client,
    readonly keyPrefix: string,
  ) {}

  get(key: string): Promise<string | null> {
    return this.client.get(this.keyPrefix + key);
  }

  /** Several values in one round trip, in the order of `keys` (null where missing). */
  mget(keys: string[]): Promise<(string | null)[]> {
    return this.client.mGet(keys.map((k) => this.keyPrefix + k));
  }

  /** Sets a value, expiring after `ttlMs` when given. */
  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.client.set(
      this.keyPrefix + key,
      value,
      ttlMs ? { expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) } } : undefined,
    );
  }

  /** Reads and deletes a value in one step (GETDEL): a one-shot token is taken once, however many ask. */
  take(key: string): Promise<string | null> {
    return this.client.getDel(this.keyPrefix + key);
  }

  /** Deletes keys; returns how many existed. */
  async del(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.client.del(keys.map((k) => this.keyPrefix + k));
  }

  /**
   * Fixed-window counter: the count in the current window after incrementing. Used for rate
   * limits such as failed token requests per client and source address.
   */
  async incrementWindow(key: string, windowSec: number): Promise<number> {
    return (await this.incrementWindows([key], windowSec))[0];
  }

  /** Several fixed-window counters in one transaction; each window starts with its first count. */
  async incrementWindows(keys: string[], windowSec: number): Promise<number[]> {
    const tx = this.client.multi();
    for (const key of keys) tx.incr(this.keyPrefix + key).expire(this.keyPrefix + key, windowSec, 'NX');
    const replies = await tx.exec();
    return keys.map((_, i) => Number(replies[2 * i]));
  }

  /**
   * Runs a Lua script atomically over `keys` (given without the prefix; the script sees them
   * prefixed, as KEYS[i]). Redis caches the script by its SHA after the first call.
   */
  eval(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.client.eval(script, { keys: keys.map((k) => this.keyPrefix + k), arguments: args.map(String) });
  }

  /** Every field of a hash (empty when the key is missing). */
  hGetAll(key: string): Promise<Record<string, string>> {
    return this.client.hGetAll(this.keyPrefix + key);
  }

  ping(): Promise<string> {
    return this.client.ping();
  }

  /** Every key under `pattern` (after the prefix), in batches; for clean-up and tools, not hot paths. */
  async *scan(pattern: string): AsyncGenerator<string[]> {
    for await (const keys of this.client.scanIterator({ MATCH: this.keyPrefix + pattern, COUNT: 500 })) {
      if (keys.length > 0) yield keys.map((k) => k.slice(this.keyPrefix.length));
    }
  }

  async disconnect(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }
}

/**
 * Connects to Redis (failing after `connectTimeoutMs` when nothing answers, so a service does not
 * start blind). Once up, a lost connection is retried in the background and commands fail at once
 * meanwhile, instead of queueing without bound behind a request.
 */
export async function createRedis(
  url: string,
  keyPrefix: string,
  options: { logger?: RedisLogger; connectTimeoutMs?: number } = {},
): Promise<Redis> {
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 3_000,
      // Before the first connection: give up, so start-up says Redis is missing. After: keep trying.
      // (A new Error: the socket's comes from Node's own realm, which `instanceof Error` misses under jest.)
      reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(100 * 2 ** retries, 5_000) : new Error(cause.message)),
    },
  });
  let lastWarned = 0;
  client.on('error', (err: Error) => {
    // node-redis emits every failed reconnect; one line per 10 s is enough to see an outage.
    if (connected && Date.now() - lastWarned > 10_000) {
      lastWarned = Date.now();
      options.logger?.warn({ err: err.message }, 'Redis connection lost; reconnecting');
    }
  });
  await client.connect();
  connected = true;
  return new Redis(client, keyPrefix);
}

export function redisHealth(redis: Redis): HealthIndicator {
  return {
    name: 'redis',
    async check() {
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING answer ${String(pong)}`);
    },
  };
}

/** Fixed-window counter (see {@link Redis.incrementWindow}). */
export function incrementWindow(redis: Redis, key: string, windowSec: number): Promise<number> {
  return redis.incrementWindow(key, windowSec);
}

/**
 * Failed authentications, counted in one-minute windows per (source address, subject) — so a
 * guesser elsewhere cannot lock a partner out — and per source over all subjects, to slow
 * spraying. Tenancy's token endpoint and the identifier's handle identities both use it.
 */
export class FailedAttemptLimiter {
  static readonly WINDOW_SECONDS = 60;

  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly limits: { perSubject: number; perSource: number },
  ) {}

  /** A source cannot contain a space, so the first one separates it from the subject. */
  private keys(source: string, subject: string): [string, string] {
    return [`${this.namespace}:source-subject:${source} ${subject}`, `${this.namespace}:source:${source}`];
  }

  /** Which limit the next attempt would exceed, if any: one round trip. */
  async blocked(source: string, subject: string): Promise<'subject' | 'source' | undefined> {
    const [perSubject, perSource] = (await this.redis.mget(this.keys(source, subject))).map((v) => Number(v ?? 0));
    if (perSubject >= this.limits.perSubject) return 'subject';
    if (perSource >= this.limits.perSource) return 'source';
    return undefined;
  }

  /** Counts a failure against both; each window starts with its first failure. */
  async record(source: string, subject: string): Promise<void> {
    await this.redis.incrementWindows(this.keys(source, subject), FailedAttemptLimiter.WINDOW_SECONDS);
  }
}
