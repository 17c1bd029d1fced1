import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeviceEventData, Topics } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { DevicesRepository } from './devices.repository';

/** Kafka adapter: the registry's device events keep this service's copy of devices current. */
@Injectable()
export class DevicesConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop?: () => Promise<void>;

  constructor(
    private readonly devices: DevicesRepository,
    private readonly runtime: ServiceRuntime,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = this.runtime.consume({
      group: 'iip.telemetry.devices',
      topics: [Topics.deviceRegistryDevice],
      handle: (event, ctx) => this.devices.apply(ctx.manager, event.data as DeviceEventData),
      what: 'device event consumer',
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop?.();
  }
}
