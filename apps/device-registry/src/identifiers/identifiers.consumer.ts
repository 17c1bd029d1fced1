import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { IdentifierChangedData, Topics } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { DevicesService } from '../devices/devices.service';

/** Kafka adapter: identifier's announcements of devices' identifiers are kept on the devices. */
@Injectable()
export class IdentifiersConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop?: () => Promise<void>;

  constructor(
    private readonly devices: DevicesService,
    private readonly runtime: ServiceRuntime,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = this.runtime.consume({
      group: 'iip.device-registry.identifiers',
      topics: [Topics.identifierIdentifier],
      handle: (event, ctx) => this.devices.identifierAnnounced(ctx.manager, event.data as IdentifierChangedData),
      what: 'identifier event consumer',
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop?.();
  }
}
