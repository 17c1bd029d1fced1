import { join } from 'node:path';
import { checkPostgresAndRedis, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from './infra-check';

// Plain CommonJS so the same file serves scripts and tests.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const broker = require(join(__dirname, '../../../../tools/kafka/broker.cjs')) as typeof import('../../../../tools/kafka/broker.cjs');

/** Before the integration specs: real PostgreSQL and Redis must answer; Kafka is started when none is configured. */
export default async function globalSetup(): Promise<void> {
  await checkPostgresAndRedis(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, process.env.REDIS_URL ?? DEFAULT_REDIS_URL);
  if (!process.env.KAFKA_BROKERS) {
    const result = await broker.startKafka({ port: 9092 });
    process.env.KAFKA_BROKERS = result.brokers;
    if (result.started) process.env.IIP_TEST_STARTED_KAFKA = '1';
  }
}
