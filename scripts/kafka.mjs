#!/usr/bin/env node
// Local Kafka broker (single-node KRaft, jars from Maven Central).
//   node scripts/kafka.mjs start|stop|status|kill [--port N] [--heap MB]
// `status` exits 0 when a broker answers on the port, 1 otherwise.
import { parseArgs } from 'node:util';
import { ensureKafkaJars, isKafkaUp, killKafkaHard, startKafka, stopKafka } from '../tools/kafka/broker.cjs';

const USAGE = 'usage: node scripts/kafka.mjs start|stop|status|kill|fetch [--port N] [--heap MB]';

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '9092' },
      heap: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}

const [command] = args.positionals;
const port = Number(args.values.port);
if (args.values.help || !command || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(USAGE);
  process.exit(args.values.help ? 0 : 2);
}
const brokers = `127.0.0.1:${port}`;

try {
  switch (command) {
    case 'start': {
      const t0 = Date.now();
      const heapMb = args.values.heap ? Number(args.values.heap) : undefined;
      if (heapMb !== undefined && !(Number.isInteger(heapMb) && heapMb >= 128)) {
        throw new Error(`--heap must be a whole number of MiB >= 128, got ${args.values.heap}`);
      }
      const res = await startKafka({ port, heapMb });
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(
        res.started
          ? `Kafka started on ${res.brokers} (pid ${res.pid}) in ${secs} s`
          : `Kafka already running on ${res.brokers}${res.pid ? ` (pid ${res.pid})` : ''}, reused`,
      );
      break;
    }
    case 'stop':
      console.log((await stopKafka({ port })) ? `Kafka on ${brokers} stopped` : `No Kafka broker of ours on ${brokers}`);
      break;
    case 'kill':
      console.log((await killKafkaHard({ port })) ? `Kafka on ${brokers} killed` : `No Kafka broker of ours on ${brokers}`);
      break;
    case 'status': {
      const up = await isKafkaUp(brokers);
      console.log(up ? `Kafka is up on ${brokers}` : `Kafka is down on ${brokers}`);
      process.exitCode = up ? 0 : 1;
      break;
    }
    case 'fetch':
      console.log(`Kafka jars in ${await ensureKafkaJars()}`);
      break;
    default:
      console.error(`unknown command: ${command}\n${USAGE}`);
      process.exitCode = 2;
  }
} catch (err) {
  console.error(`kafka ${command} failed: ${err.message}`);
  process.exitCode = 1;
}
