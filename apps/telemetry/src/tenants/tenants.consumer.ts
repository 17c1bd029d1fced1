import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { TenantEventData, Topics } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TenantsRepository } from './tenants.repository';

/** Kafka adapter: tenancy's tenant events keep this service's copy of the tree and the quotas current. */
@Injectable()
export class TenantsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop?: () => Promise<void>;

  constructor(
    private readonly tenants: TenantsRepository,
    private readonly runtime: ServiceRuntime,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = this.runtime.consume({
      group: 'iip.telemetry.tenants',
      topics: [Topics.tenancyTenant],
      handle: (event, ctx) => this.tenants.apply(ctx.manager, event.data as TenantEventData),
      what: 'tenant event consumer',
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop?.();
  }
}
