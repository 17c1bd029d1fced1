import { DynamicModule, Global, Module } from '@nestjs/common';
import { BasicAuthenticator, ClientCredentialsToken, DataGrantCheck } from '@iip/platform-auth';
import { ServiceRuntime } from '@iip/platform-runtime';
import { BRIDGE_SETTINGS, BridgeSettings, EdgeBridges } from './bridge/edge-bridge';
import { CommandsController } from './commands/commands.controller';
import { CommandsService } from './commands/commands.service';
import { ThingEventsController } from './events/thing-events.controller';
import { ThingEventsService } from './events/thing-events.service';
import { DeviceMessagingService } from './mqtt/device-messaging';
import { DevicesConsumer } from './devices/devices.consumer';
import { DevicesRepository } from './devices/devices.repository';
import { DeviceActivity } from './ingest/activity';
import { DeviceAuthenticator } from './ingest/device-authenticator';
import { IngestController } from './ingest/ingest.controller';
import { IngestGrpcController } from './ingest/ingest.grpc-controller';
import { INGEST_SETTINGS, IngestService, IngestSettings } from './ingest/ingest.service';
import { PointsProducer } from './ingest/points-producer';
import { TelemetryQuota } from './ingest/quota';
import { HealthEvaluator } from './maintenance/health-evaluator';
import { EvaluationSettings } from './maintenance/evaluation';
import { MaintenanceController } from './maintenance/maintenance.controller';
import { MaintenanceGrpcController } from './maintenance/maintenance.grpc-controller';
import { MaintenanceRepository } from './maintenance/maintenance.repository';
import { MaintenanceService, PROFILED_DEVICES } from './maintenance/maintenance.service';
import { ProfiledDevices } from './maintenance/profiled-devices';
import { MqttEndpoint, MqttEndpointSettings } from './mqtt/mqtt-endpoint';
import { QueryController } from './query/query.controller';
import { DeviceSelector } from './query/device-selector';
import { QUERY_SETTINGS, QueryService } from './query/query.service';
import { REGISTRY_CLIENT, RegistryClient } from './registry/registry-client';
import { RetentionController } from './retention/retention.controller';
import { RetentionService } from './retention/retention.service';
import { AlarmsController } from './rules/alarms.controller';
import { AlarmsService } from './rules/alarms.service';
import { RuleEngine, TELEMETRY_OUTBOX } from './rules/rule-engine';
import { LatestValues } from './storage/latest-values';
import { PointsReader, PointsStore } from './storage/points-store';
import { PointsWriter } from './storage/points-writer';
import { RETENTION_DEFAULTS, RetentionStore } from './storage/retention';
import { LIFECYCLE_SETTINGS, LifecycleSettings, TelemetryLifecycle } from './telemetry-lifecycle';
import { TenantsConsumer } from './tenants/tenants.consumer';
import { TELEMETRY_DATA_SOURCE, TenantsRepository } from './tenants/tenants.repository';

export interface TelemetrySettings {
  registryGrpcUrl: string;
  tenancyGrpcUrl: string;
  token: { tokenUrl: string; clientId: string; clientSecret: string };
  timeZone: string;
  pointsPartitions: number;
  writerBatchPoints: number;
  ingest: IngestSettings;
  mqtt: MqttEndpointSettings;
  bridges: BridgeSettings[];
  lifecycle: LifecycleSettings & { rawRetentionDays: number };
  maintenance: EvaluationSettings & { refreshMs: number };
}

/** The runtime's connections, telemetry's settings and the objects built from them, shared by the feature providers. */
@Global()
@Module({})
export class TelemetryInfraModule {
  static forRoot(runtime: ServiceRuntime, settings: TelemetrySettings): DynamicModule {
    const { config } = runtime;
    const registry = new RegistryClient(settings.registryGrpcUrl, new ClientCredentialsToken(settings.token));
    runtime.onClose(() => registry.close());
    const grants = new DataGrantCheck(settings.tenancyGrpcUrl, runtime.logger);
    runtime.onClose(() => grants.close());
    const producer = new PointsProducer(runtime.kafka, runtime.topics, config.KAFKA_TOPIC_PREFIX, settings.pointsPartitions);
    runtime.onClose(() => producer.stop());
    const activity = new DeviceActivity(runtime.kafka, runtime.topics, config.KAFKA_TOPIC_PREFIX, runtime.logger);
    runtime.onClose(() => activity.stop());
    const providers = [
      { provide: ServiceRuntime, useValue: runtime },
      { provide: TELEMETRY_DATA_SOURCE, useValue: runtime.dataSource },
      { provide: TELEMETRY_OUTBOX, useValue: runtime.outboxWriter },
      { provide: 'TELEMETRY_TIME_ZONE', useValue: settings.timeZone },
      { provide: REGISTRY_CLIENT, useValue: registry },
      { provide: DataGrantCheck, useValue: grants },
      { provide: PointsProducer, useValue: producer },
      { provide: DeviceActivity, useValue: activity },
      { provide: TelemetryQuota, useValue: new TelemetryQuota(runtime.redis) },
      { provide: LatestValues, useValue: new LatestValues(runtime.redis) },
      { provide: PointsReader, useValue: new PointsReader(runtime.dataSource) },
      { provide: INGEST_SETTINGS, useValue: settings.ingest },
      { provide: QUERY_SETTINGS, useValue: { timeZone: settings.timeZone, rawRetentionDays: settings.lifecycle.rawRetentionDays } },
      { provide: LIFECYCLE_SETTINGS, useValue: settings.lifecycle },
      {
        provide: RETENTION_DEFAULTS,
        useValue: { rawDays: settings.lifecycle.rawRetentionDays, rollupDays: settings.lifecycle.rollupRetentionDays },
      },
      { provide: 'MQTT_SETTINGS', useValue: settings.mqtt },
      { provide: BRIDGE_SETTINGS, useValue: settings.bridges },
      { provide: 'WRITER_SETTINGS', useValue: { batchPoints: settings.writerBatchPoints, partitions: settings.pointsPartitions } },
      { provide: 'MAINTENANCE_SETTINGS', useValue: settings.maintenance },
    ];
    return { module: TelemetryInfraModule, providers, exports: providers.map((p) => p.provide) };
  }
}

@Module({
  controllers: [
    IngestController,
    IngestGrpcController,
    QueryController,
    RetentionController,
    AlarmsController,
    CommandsController,
    ThingEventsController,
    MaintenanceController,
    MaintenanceGrpcController,
  ],
  providers: [
    TenantsRepository,
    TenantsConsumer,
    DevicesRepository,
    DevicesConsumer,
    IngestService,
    DeviceAuthenticator,
    { provide: BasicAuthenticator, useExisting: DeviceAuthenticator },
    QueryService,
    DeviceSelector,
    PointsStore,
    RetentionStore,
    RetentionService,
    RuleEngine,
    AlarmsService,
    CommandsService,
    ThingEventsService,
    DeviceMessagingService,
    EdgeBridges,
    {
      provide: MqttEndpoint,
      inject: ['MQTT_SETTINGS', REGISTRY_CLIENT, IngestService, DeviceMessagingService, ServiceRuntime],
      useFactory: (
        settings: MqttEndpointSettings,
        registry: RegistryClient,
        ingest: IngestService,
        messaging: DeviceMessagingService,
        runtime: ServiceRuntime,
      ) => new MqttEndpoint(settings, registry, ingest, messaging, runtime.logger),
    },
    {
      provide: PointsWriter,
      inject: [ServiceRuntime, PointsStore, LatestValues, RuleEngine, 'WRITER_SETTINGS'],
      useFactory: (
        runtime: ServiceRuntime,
        store: PointsStore,
        latest: LatestValues,
        rules: RuleEngine,
        s: { batchPoints: number; partitions: number },
      ) =>
        new PointsWriter(runtime.kafka, runtime.dataSource, runtime.topics, store, latest, rules, runtime.logger, runtime.metrics, {
          groupId: `${runtime.config.KAFKA_TOPIC_PREFIX}iip.telemetry.writer`,
          topic: `${runtime.config.KAFKA_TOPIC_PREFIX}iip.telemetry.points.v1`,
          partitions: s.partitions,
          batchPoints: s.batchPoints,
        }),
    },
    MaintenanceRepository,
    MaintenanceService,
    {
      provide: PROFILED_DEVICES,
      inject: [MaintenanceRepository, ServiceRuntime, 'MAINTENANCE_SETTINGS'],
      useFactory: (repository: MaintenanceRepository, runtime: ServiceRuntime, s: { refreshMs: number }) =>
        new ProfiledDevices(repository, runtime.logger, s.refreshMs),
    },
    {
      provide: HealthEvaluator,
      inject: [ServiceRuntime, MaintenanceRepository, PROFILED_DEVICES, 'MAINTENANCE_SETTINGS'],
      useFactory: (runtime: ServiceRuntime, repository: MaintenanceRepository, profiles: ProfiledDevices, s: EvaluationSettings) =>
        new HealthEvaluator(runtime.kafka, runtime.topics, repository, runtime.outboxWriter, profiles, runtime.logger, {
          ...s,
          groupId: `${runtime.config.KAFKA_TOPIC_PREFIX}iip.telemetry.maintenance`,
          topic: `${runtime.config.KAFKA_TOPIC_PREFIX}iip.telemetry.points.v1`,
        }),
    },
    TelemetryLifecycle,
  ],
})
export class TelemetryModule {}
