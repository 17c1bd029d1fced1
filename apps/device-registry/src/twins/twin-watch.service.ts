import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Observable, Subject, concatMap, filter, from, map, mergeMap } from 'rxjs';
import { Topics, TwinEventData } from '@iip/contracts';
import { Principal, TokenVerifier, canManage } from '@iip/platform-auth';
import { BroadcastListener } from '@iip/platform-kafka';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { DevicesService } from '../devices/devices.service';
import { KnownTenant, TenantsRepository } from '../tenants/tenants.repository';

export type TwinChange = TwinEventData & { time: string };

/** How long a stream trusts the tenant it read for a change: a burst reads it once, a move is followed within a second. */
const TENANT_TTL_MS = 1_000;

/**
 * Twin change streams (gRPC WatchTwinChanges): every instance hears every twin event, and each
 * stream passes on only those of devices its subscriber manages, checked per change as a read is.
 */
@Injectable()
export class TwinWatchService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly changes = new Subject<TwinChange>();
  private listener?: BroadcastListener;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly tenants: TenantsRepository,
    private readonly devices: DevicesService,
    private readonly verifier: TokenVerifier,
    @InjectLogger() private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap(): void {
    const { kafka, topics, config } = this.runtime;
    this.listener = new BroadcastListener(kafka, topics, this.logger, {
      name: `${config.KAFKA_TOPIC_PREFIX}iip.device-registry.twin-watch`,
      topics: [config.KAFKA_TOPIC_PREFIX + Topics.deviceRegistryTwin],
      handle: (event) => this.changes.next({ ...(event.data as TwinEventData), time: event.time }),
    });
    this.listener.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.changes.complete();
    await this.listener?.stop();
  }

  watch(subscriber: Principal, deviceId?: string): Observable<TwinChange> {
    const tenants = new LRUCache<string, { tenant?: KnownTenant }>({ max: 1_000, ttl: TENANT_TTL_MS });
    const maySee = async (change: TwinChange): Promise<boolean> => {
      // A stream outlives the token checked when it opened: revoked, suspended or expired ends it.
      const invalid = this.verifier.noLongerValid(subscriber);
      if (invalid) throw new DeviceRegistryError(DeviceRegistryErrorCode.DEVICE_NOT_AUTHENTICATED, `The stream has ended: ${invalid}`);
      let known = tenants.get(change.tenantId);
      if (!known) {
        known = { tenant: await this.tenants.find(change.tenantId) };
        tenants.set(change.tenantId, known);
      }
      return known.tenant !== undefined && canManage(subscriber.tenant, known.tenant);
    };
    // Watching one device needs that device to be readable now (404 otherwise, as for a read).
    const opened = deviceId ? this.devices.managedRow(subscriber, deviceId).then(() => undefined) : Promise.resolve();
    return from(opened).pipe(
      mergeMap(() => this.changes),
      filter((c) => !deviceId || c.deviceId === deviceId),
      concatMap((c) => from(maySee(c)).pipe(map((visible) => (visible ? c : undefined)))),
      filter((c): c is TwinChange => c !== undefined),
    );
  }
}
