import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeviceEventData, Topics } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { DeviceIdentifiersService } from './device-identifiers.service';

/** Kafka adapter: the registry's device events register and update devices' identifiers. */
@Injectable()
export class DeviceIdentifiersConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop?: () => Promise<void>;

  constructor(
    private readonly devices: DeviceIdentifiersService,
    private readonly runtime: ServiceRuntime,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = this.runtime.consume({
      group: `iip.identifier.devices.${this.devices.nodePrefix}`,
      topics: [Topics.deviceRegistryDevice],
      handle: (event, ctx) => this.devices.applyDeviceEvent(ctx.manager, event.type, event.data as DeviceEventData),
      // A bulk import's registrations arrive by the thousand: registered together.
      handleMany: (events, ctx) => this.devices.applyDeviceEvents(ctx.manager, events),
      what: 'device event consumer',
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop?.();
  }
}
