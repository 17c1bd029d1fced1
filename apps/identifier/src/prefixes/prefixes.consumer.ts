import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { TenantEventData, Topics } from '@iip/contracts';
import { ServiceRuntime } from '@iip/platform-runtime';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from './prefixes.service';

/**
 * Kafka adapter: tenancy's tenant events allocate enterprise prefixes (TenantOnboarded) and
 * keep owners' places in the tree current. Starts in the background and keeps trying while
 * Kafka is away, so the service is up (and resolving) either way.
 */
@Injectable()
export class PrefixesConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop?: () => Promise<void>;

  constructor(
    private readonly prefixes: PrefixesService,
    private readonly runtime: ServiceRuntime,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = this.runtime.consume({
      // One group per node: two nodes on one cluster each hear every tenant event.
      group: `iip.identifier.prefixes.${this.node.nodePrefix}`,
      topics: [Topics.tenancyTenant],
      handle: (event, ctx) => this.prefixes.applyTenantEvent(ctx.manager, event.type, event.data as TenantEventData),
      what: 'tenant event consumer',
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop?.();
  }
}
