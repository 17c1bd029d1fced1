import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createClient } from 'redis';
import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from './infra-check';

/** Where one test file's service runs: its own database, Redis key prefix and Kafka topic prefix. */
export interface TestEnvironment {
  id: string;
  databaseUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  topicPrefix: string;
  kafkaBrokers: string;
  /** Environment variables for a service under test, with overrides. */
  env(overrides?: Record<string, string>): Record<string, string>;
  cleanup(): Promise<void>;
}

export function createTestEnvironment(label: string): Promise<TestEnvironment> {
  const id = `${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const base = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  const dbName = `iip_test_${id}`;
  const databaseUrl = new URL(base.toString());
  databaseUrl.pathname = `/${dbName}`;
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const redisKeyPrefix = `test:${id}:`;
  const topicPrefix = `t_${id}.`;
  const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

  return Promise.resolve({
    id,
    databaseUrl: databaseUrl.toString(),
    redisUrl,
    redisKeyPrefix,
    topicPrefix,
    kafkaBrokers,
    env(overrides = {}) {
      return {
        NODE_ENV: 'test',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        DATABASE_URL: databaseUrl.toString(),
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: redisKeyPrefix,
        KAFKA_BROKERS: kafkaBrokers,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        KAFKA_TOPIC_PARTITIONS: '2',
        ...overrides,
      };
    },
    async cleanup() {
      const admin = new URL(base.toString());
      admin.pathname = '/postgres';
      const pg = new Client({ connectionString: admin.toString() });
      await pg.connect();
      try {
        await pg.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      } finally {
        await pg.end();
      }
      const redis = createClient({ url: redisUrl, socket: { reconnectStrategy: false } });
      redis.on('error', () => undefined);
      await redis.connect();
      try {
        for await (const keys of redis.scanIterator({ MATCH: `${redisKeyPrefix}*`, COUNT: 500 }))
          if (keys.length > 0) await redis.del(keys);
      } finally {
        await redis.close();
      }
      await deleteTopicsWithPrefix(kafkaBrokers, topicPrefix).catch(() => undefined);
    },
  });
}

async function deleteTopicsWithPrefix(brokers: string, prefix: string): Promise<void> {
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
/** Polls `probe` every `intervalMs` until it returns a value. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

/**
 * A service as its own process, from the built tree (dist/), so a test can kill it for real:
 * resolves once it logged `<name> ready`, with its HTTP URL.
 */
export async function startServiceProcess(
  entry: string,
  name: string,
  env: Record<string, string>,
): Promise<{ child: import('node:child_process').ChildProcess; url: string }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"http":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m && out.includes(`${name} ready`)) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
  child.stdout?.resume();
  return { child, url };
}
