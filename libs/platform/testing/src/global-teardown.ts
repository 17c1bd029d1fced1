import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const broker = require(join(__dirname, '../../../../tools/kafka/broker.cjs')) as typeof import('../../../../tools/kafka/broker.cjs');

/** Stops the broker the setup started, unless asked to keep it for the next run (IIP_KEEP_KAFKA=1). */
export default async function globalTeardown(): Promise<void> {
  if (process.env.IIP_TEST_STARTED_KAFKA === '1' && process.env.IIP_KEEP_KAFKA !== '1') {
    await broker.stopKafka({ port: 9092 });
  }
}
