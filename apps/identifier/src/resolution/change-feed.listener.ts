import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Subject } from 'rxjs';
import { IdentifierChangedData, Topics } from '@iip/contracts';
import { BroadcastListener } from '@iip/platform-kafka';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { RecordCache } from './record-cache';

/** Kafka adapter: every instance hears every identifier change and drops its stale cache entry. */
@Injectable()
export class ChangeFeedListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private listener?: BroadcastListener;
  /** Every identifier change this instance hears, for WatchChanges streams. */
  readonly changes = new Subject<IdentifierChangedData & { time: string }>();

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly cache: RecordCache,
    @InjectLogger() private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap(): void {
    const { kafka, topics, config } = this.runtime;
    this.listener = new BroadcastListener(kafka, topics, this.logger, {
      name: `${config.KAFKA_TOPIC_PREFIX}iip.identifier.cache`,
      topics: [config.KAFKA_TOPIC_PREFIX + Topics.identifierIdentifier],
      handle: (event) => {
        const data = event.data as IdentifierChangedData;
        this.changes.next({ ...data, time: event.time });
        return this.cache.changed(data.key, data.version, data.change);
      },
    });
    this.listener.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.changes.complete();
    await this.listener?.stop();
  }
}
