import { Client } from 'pg';
import { createClient } from 'redis';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Fails with what to start, and how, when PostgreSQL or Redis is not there. */
export async function checkPostgresAndRedis(databaseUrl: string, redisUrl: string): Promise<void> {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const pg = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${admin.host} (${(err as Error).message}). Start it, e.g. ` +
        `'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', or set DATABASE_URL.`,
    );
  } finally {
    await pg.end().catch(() => undefined);
  }
  try {
    // The plain client: the platform's Redis library is itself tested with this package.
    const redis = createClient({ url: redisUrl, socket: { connectTimeout: 3000, reconnectStrategy: false } });
    redis.on('error', () => undefined);
    await redis.connect();
    await redis.ping().finally(() => redis.close());
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${redisUrl} (${(err as Error).message}). Start it, e.g. ` +
        `'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""', or set REDIS_URL.`,
    );
  }
}
