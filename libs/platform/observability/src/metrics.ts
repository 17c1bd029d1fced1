import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per application instance, so several apps can share a test process. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Histogram<'method' | 'route' | 'status'>;
  readonly grpcCalls: Counter<'method' | 'code'>;
  readonly kafkaMessages: Counter<'topic' | 'outcome'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Histogram({
      name: 'iip_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.grpcCalls = new Counter({
      name: 'iip_grpc_calls_total',
      help: 'gRPC calls by method and status code',
      labelNames: ['method', 'code'],
      registers: [this.registry],
    });
    this.kafkaMessages = new Counter({
      name: 'iip_kafka_messages_total',
      help: 'Kafka messages handled by outcome (applied, duplicate, retried, dead-lettered, published)',
      labelNames: ['topic', 'outcome'],
      registers: [this.registry],
    });
  }
}
