import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  CommandEventData,
  CredentialEventData,
  CredentialEventTypes,
  DeviceEventData,
  DeviceRegistryEventTypes,
  TelemetryEventTypes,
  Topics,
  TwinEventData,
  TwinEventTypes,
} from '@iip/contracts';
import { BroadcastListener } from '@iip/platform-kafka';
import { PollingWorker, ServiceRuntime } from '@iip/platform-runtime';
import { EdgeBridges } from './bridge/edge-bridge';
import { CommandsService } from './commands/commands.service';
import { DeviceMessagingService } from './mqtt/device-messaging';
import { MqttEndpoint } from './mqtt/mqtt-endpoint';
import { PointsStore } from './storage/points-store';
import { RetentionStore } from './storage/retention';
import { PointsWriter } from './storage/points-writer';
import { RuleEngine } from './rules/rule-engine';
import { HealthEvaluator } from './maintenance/health-evaluator';

export const LIFECYCLE_SETTINGS = Symbol('LIFECYCLE_SETTINGS');

export interface LifecycleSettings {
  writer: boolean;
  partitionsAheadDays: number;
  rawRetentionDays: number;
  rollupRetentionDays: number;
  rulesTickMs: number;
  /** Run the health evaluator (TELEMETRY_MAINTENANCE). */
  maintenance: boolean;
}

/**
 * What runs beside the request handlers: the MQTT endpoint, the batched writer, the health
 * evaluator, partition upkeep and retention, the no-data check, and the registry's events that reach connected
 * devices (a revoked credential or a suspended device is disconnected; desired twin changes
 * are delivered).
 */
@Injectable()
export class TelemetryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly workers: PollingWorker[] = [];
  private listener?: BroadcastListener;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly mqtt: MqttEndpoint,
    private readonly writer: PointsWriter,
    private readonly store: PointsStore,
    private readonly retention: RetentionStore,
    private readonly rules: RuleEngine,
    private readonly commands: CommandsService,
    private readonly messaging: DeviceMessagingService,
    private readonly bridges: EdgeBridges,
    private readonly health: HealthEvaluator,
    @Inject(LIFECYCLE_SETTINGS) private readonly settings: LifecycleSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { logger, kafka, topics, config } = this.runtime;
    await this.store.ensurePartitions([], this.settings.partitionsAheadDays);
    this.listener = new BroadcastListener(kafka, topics, logger, {
      name: `${config.KAFKA_TOPIC_PREFIX}iip.telemetry.sessions`,
      topics: [Topics.deviceRegistryCredential, Topics.deviceRegistryDevice, Topics.deviceRegistryTwin, Topics.telemetryCommand].map(
        (t) => config.KAFKA_TOPIC_PREFIX + t,
      ),
      handle: (event) => {
        if (event.type === CredentialEventTypes.CredentialRevoked)
          this.mqtt.disconnect({ credentialId: (event.data as CredentialEventData).id });
        else if (event.type === DeviceRegistryEventTypes.DeviceStatusChanged) {
          const d = event.data as DeviceEventData;
          if (d.status === 'suspended' || d.status === 'decommissioned') this.mqtt.disconnect({ deviceId: d.id });
        } else if (event.type === TwinEventTypes.TwinDesiredChanged) {
          const t = event.data as TwinEventData;
          this.mqtt.deliver({
            deviceId: t.deviceId,
            topic: `iip/v1/${t.deviceId}/twin/desired`,
            payload: JSON.stringify({ version: t.version, patch: t.patch, delta: t.delta }),
          });
        } else if (event.type === TelemetryEventTypes.CommandRequested) {
          // Whichever instance holds the device's connection delivers; an offline device gets it when it subscribes.
          this.mqtt.deliver(this.messaging.commandDelivery(event.data as CommandEventData));
        }
      },
    });
    this.listener.start();
    this.workers.push(
      new PollingWorker(logger, 'telemetry partition upkeep', 3_600_000, () => this.upkeep()),
      new PollingWorker(logger, 'no-data rules', this.settings.rulesTickMs, async () => {
        await this.rules.checkSilence();
      }),
      new PollingWorker(logger, 'command timeouts', this.settings.rulesTickMs, async () => {
        await this.commands.expire();
      }),
    );
    for (const w of this.workers) w.start();
    if (this.settings.writer) this.writer.start();
    if (this.settings.maintenance) this.health.start();
    await this.mqtt.start();
    this.bridges.start(logger);
  }

  /** Partitions ahead, and retention per tenant (run hourly; tests run it once). */
  async upkeep(): Promise<void> {
    await this.store.ensurePartitions([], this.settings.partitionsAheadDays);
    const pass = await this.retention.enforce();
    if (pass.droppedPartitions.length > 0 || pass.rawDeleted > 0 || pass.rollupsDeleted > 0)
      this.runtime.logger.info(pass, 'telemetry past retention removed');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bridges.stop();
    await this.mqtt.stop();
    await this.writer.stop();
    await this.health.stop();
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.listener?.stop();
  }
}
