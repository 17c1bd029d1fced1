// Brings up what the platform needs locally: checks PostgreSQL and Redis, creates the
// database, and starts the project's own Kafka broker unless KAFKA_BROKERS points elsewhere.
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const DEFAULTS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/iip',
  REDIS_URL: 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: '127.0.0.1:9092',
};

export async function infraUp(root, { database = true } = {}) {
  const require = createRequire(join(root, 'package.json'));
  const pg = require('pg');
  const { createClient } = require('redis');
  const broker = require(join(root, 'tools/kafka/broker.cjs'));
  const databaseUrl = process.env.DATABASE_URL || DEFAULTS.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL || DEFAULTS.REDIS_URL;

  const admin = new URL(databaseUrl);
  const dbName = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    if (database) {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
      if (found.rowCount === 0) {
        await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
        console.log(`✓ created database ${dbName}`);
      }
    }
  } catch (err) {
    fail(
      `PostgreSQL is not reachable at ${admin.host} (${err.message}).`,
      `Start it, e.g.: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\nor point DATABASE_URL at a running server.`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  console.log(`✓ PostgreSQL ${admin.host}`);

  const redis = createClient({ url: redisUrl, socket: { connectTimeout: 3000, reconnectStrategy: false } });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    fail(
      `Redis is not reachable at ${redisUrl} (${err.message}).`,
      `Start it, e.g.: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""\nor point REDIS_URL at a running server.`,
    );
  } finally {
    if (redis.isOpen) await redis.close();
  }
  console.log(`✓ Redis ${redisUrl}`);

  let startedKafka = false;
  if (process.env.KAFKA_BROKERS) {
    if (!(await broker.isKafkaUp(process.env.KAFKA_BROKERS, 5000))) {
      fail(
        `Kafka is not reachable at KAFKA_BROKERS=${process.env.KAFKA_BROKERS}.`,
        'Start it, or unset KAFKA_BROKERS to let IIP start its own local broker.',
      );
    }
    console.log(`✓ Kafka ${process.env.KAFKA_BROKERS} (configured)`);
  } else {
    const started = Date.now();
    const result = await broker.startKafka({ port: 9092 });
    startedKafka = result.started;
    process.env.KAFKA_BROKERS = result.brokers;
    console.log(
      `✓ Kafka ${result.brokers} (${result.started ? `started in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'already running'})`,
    );
  }
  return {
    startedKafka,
    async down() {
      if (startedKafka) {
        await broker.stopKafka({ port: 9092 });
        console.log('✓ Kafka stopped');
      }
    },
  };
}

function fail(what, how) {
  console.error(`✗ ${what}\n  ${how.replace(/\n/g, '\n  ')}`);
  process.exit(69); // EX_UNAVAILABLE
}
