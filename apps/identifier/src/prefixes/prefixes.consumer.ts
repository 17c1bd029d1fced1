import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TenantEventData, Topics } from '@iip/contracts';
import { IdempotentConsumer, createIdempotentProducer, startWithRetry } from '@iip/platform-kafka';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { IDENTIFIER_DATA_SOURCE } from './prefixes.repository';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from './prefixes.service';

/**
 * Kafka adapter: tenancy's tenant events allocate enterprise prefixes (TenantOnboarded) and
 * keep owners' places in the tree current. Starts in the background and keeps trying while
 * Kafka is away, so the service is up (and resolving) either way.
 */
@Injectable()
export class PrefixesConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: IdempotentConsumer;
  private stopped = false;

  constructor(
    private readonly prefixes: PrefixesService,
    private readonly runtime: ServiceRuntime,
    @Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource,
    @InjectLogger() private readonly logger: AppLogger,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  onApplicationBootstrap(): void {
    void this.startWithRetry();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.consumer?.stop();
  }

  private startWithRetry(): Promise<void> {
    const { kafka, topics, config, metrics } = this.runtime;
    return startWithRetry(
      async () => {
        const consumer = new IdempotentConsumer(kafka, this.dataSource, createIdempotentProducer(kafka), topics, this.logger, {
          // One group per node: two nodes on one cluster each hear every tenant event.
          groupId: `${config.KAFKA_TOPIC_PREFIX}iip.identifier.prefixes.${this.node.nodePrefix}`,
          topics: [config.KAFKA_TOPIC_PREFIX + Topics.tenancyTenant],
          handle: (event, ctx) => this.prefixes.applyTenantEvent(ctx.manager, event.type, event.data as TenantEventData),
          onOutcome: (topic, outcome) => metrics.kafkaMessages.inc({ topic, outcome }),
        });
        try {
          await consumer.start();
        } catch (err) {
          await consumer.stop().catch(() => undefined);
          throw err;
        }
        this.consumer = consumer;
        if (this.stopped) await consumer.stop();
      },
      () => this.stopped,
      this.logger,
      'tenant event consumer',
    );
  }
}
