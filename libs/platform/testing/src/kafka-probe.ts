import { randomBytes } from 'node:crypto';
import { Consumer, IHeaders, Kafka, logLevel } from 'kafkajs';

export interface ReceivedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Reads a topic from the beginning into memory, as an outside observer of what was published. */
export class TopicProbe {
  readonly messages: ReceivedMessage[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly brokers: string,
    private readonly topics: string[],
  ) {}

  async start(): Promise<void> {
    const kafka = new Kafka({ brokers: this.brokers.split(','), logLevel: logLevel.NOTHING, clientId: 'iip-test-probe' });
    this.consumer = kafka.consumer({ groupId: `probe-${randomBytes(6).toString('hex')}` });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs wants a promise-returning handler
      eachMessage: async ({ topic, partition, message }) => {
        this.messages.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: flattenHeaders(message.headers),
        });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

function flattenHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}
