import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Topics } from '@iip/contracts';
import { BroadcastListener } from '@iip/platform-kafka';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { ServiceRuntime } from '@iip/platform-runtime';
import { DeviceRow } from '../devices/devices.repository';
import { CredentialRow } from './credentials.repository';

/** What AuthenticateDevice needs of a device, kept per device. */
export interface CachedCredentials {
  device: Pick<DeviceRow, 'id' | 'tenantId' | 'tenantKind' | 'tenantPath' | 'status' | 'modelId' | 'modelVersion' | 'modelName' | 'handle'>;
  credentials: Pick<CredentialRow, 'id' | 'kind' | 'secretHash' | 'fingerprint'>[];
}

export const CREDENTIAL_CACHE_SETTINGS = Symbol('CREDENTIAL_CACHE_SETTINGS');

/**
 * Devices' active credentials in memory, for connection storms. Every instance drops a device's
 * entry when it hears a credential or device event about it (a revocation holds everywhere
 * within the event's trip through Kafka); entries also expire, as a safety net.
 */
@Injectable()
export class CredentialCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly entries: LRUCache<string, CachedCredentials>;
  private listener?: BroadcastListener;

  constructor(
    private readonly runtime: ServiceRuntime,
    @InjectLogger() private readonly logger: AppLogger,
    @Inject(CREDENTIAL_CACHE_SETTINGS) settings: { size: number; ttlMs: number },
  ) {
    this.entries = new LRUCache({ max: settings.size, ttl: settings.ttlMs });
  }

  /** Counts drops: an entry read from the database before a drop is not kept after it. */
  private epoch = 0;

  get(deviceId: string): CachedCredentials | undefined {
    return this.entries.get(deviceId);
  }

  /** Call before reading the database; pass what it returns to set(). */
  begin(): number {
    return this.epoch;
  }

  set(deviceId: string, entry: CachedCredentials, readAt: number): void {
    // A credential or device event arrived while the row was read: it may be older than the event.
    if (readAt === this.epoch) this.entries.set(deviceId, entry);
  }

  drop(deviceId: string): void {
    this.epoch++;
    this.entries.delete(deviceId);
  }

  onApplicationBootstrap(): void {
    const { kafka, topics, config } = this.runtime;
    this.listener = new BroadcastListener(kafka, topics, this.logger, {
      name: `${config.KAFKA_TOPIC_PREFIX}iip.device-registry.credential-cache`,
      topics: [config.KAFKA_TOPIC_PREFIX + Topics.deviceRegistryCredential, config.KAFKA_TOPIC_PREFIX + Topics.deviceRegistryDevice],
      // Both topics are keyed by device id: the subject.
      handle: (event) => this.drop(event.subject),
    });
    this.listener.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.stop();
  }
}
