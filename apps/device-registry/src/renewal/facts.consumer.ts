import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EventEnvelope, Topics } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { FactsService } from './facts.service';

/** Kafka adapter: telemetry's activity, alarms and work orders feed the renewal facts (never a call to telemetry per request). */
@Injectable()
export class FactsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop?: () => Promise<void>;

  constructor(
    private readonly facts: FactsService,
    private readonly runtime: ServiceRuntime,
  ) {}

  onApplicationBootstrap(): void {
    const apply = (events: EventEnvelope[], ctx: { manager: EntityManager }) => this.facts.apply(ctx.manager, events);
    this.stop = this.runtime.consume({
      group: 'iip.device-registry.renewal-facts',
      topics: [Topics.telemetryActivity, Topics.telemetryAlarm, Topics.telemetryMaintenance],
      handle: (event, ctx) => apply([event], ctx),
      handleMany: apply,
      what: 'renewal facts consumer',
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop?.();
  }
}
