import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ProtoFiles, ProtoPackages, protoRoot } from '@iip/contracts';
import { ConfigError } from '@iip/platform-config';
import { AppLogger } from '@iip/platform-observability';
import { ServiceDescription, ServiceRuntime } from '@iip/platform-runtime';
import { AppModule } from './app.module';
import { TelemetryConfig } from './config';
import { telemetryMigrations } from './migrations';
import { MqttEndpoint } from './mqtt/mqtt-endpoint';
import { TelemetryLifecycle } from './telemetry-lifecycle';

export const TELEMETRY_SERVICE: ServiceDescription = {
  name: 'telemetry',
  schema: 'telemetry',
  entities: [],
  migrations: telemetryMigrations,
};

export interface RunningTelemetry extends ServiceRuntime {
  mqttPort: number;
  /** One pass of the hourly upkeep (partitions ahead, retention per tenant), for tests. */
  upkeep(): Promise<void>;
}

/** Builds, migrates and starts telemetry: used by main.ts and by the tests alike. */
export async function startTelemetry(config: TelemetryConfig, options: { logger?: AppLogger } = {}): Promise<RunningTelemetry> {
  if (!config.TELEMETRY_CLIENT_SECRET) {
    throw new ConfigError([
      { variable: 'TELEMETRY_CLIENT_SECRET', message: "is needed: telemetry asks the device registry with its own client's token" },
    ]);
  }
  const tls =
    config.TELEMETRY_MQTT_TLS_CERT && config.TELEMETRY_MQTT_TLS_KEY
      ? {
          cert: readFileSync(config.TELEMETRY_MQTT_TLS_CERT, 'utf8'),
          key: readFileSync(config.TELEMETRY_MQTT_TLS_KEY, 'utf8'),
          ca: config.TELEMETRY_MQTT_TLS_CA ? readFileSync(config.TELEMETRY_MQTT_TLS_CA, 'utf8') : undefined,
        }
      : undefined;
  const runtime = await ServiceRuntime.open(TELEMETRY_SERVICE, config, options.logger);
  return runtime.guard(async () => {
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(runtime, runtime.tokenVerifier(), {
        registryGrpcUrl: config.TELEMETRY_DEVICE_REGISTRY_GRPC_URL,
        tenancyGrpcUrl: config.TELEMETRY_TENANCY_GRPC_URL,
        token: {
          tokenUrl: config.TELEMETRY_TOKEN_URL,
          clientId: config.TELEMETRY_CLIENT_ID,
          clientSecret: config.TELEMETRY_CLIENT_SECRET as string,
        },
        timeZone: config.TELEMETRY_TIME_ZONE,
        pointsPartitions: config.TELEMETRY_POINTS_PARTITIONS,
        writerBatchPoints: config.TELEMETRY_WRITER_BATCH_POINTS,
        ingest: {
          rawRetentionDays: config.TELEMETRY_RAW_RETENTION_DAYS,
          maxFutureMs: config.TELEMETRY_MAX_FUTURE_S * 1000,
          maxPointsPerMessage: config.TELEMETRY_MAX_POINTS_PER_MESSAGE,
        },
        mqtt: { host: config.TELEMETRY_HOST, port: config.TELEMETRY_MQTT_PORT, tls, maxPacketBytes: 1024 * 1024 },
        bridges: config.TELEMETRY_BRIDGE ? config.TELEMETRY_BRIDGES : [],
        lifecycle: {
          writer: config.TELEMETRY_WRITER,
          partitionsAheadDays: config.TELEMETRY_PARTITIONS_AHEAD_DAYS,
          rawRetentionDays: config.TELEMETRY_RAW_RETENTION_DAYS,
          rollupRetentionDays: config.TELEMETRY_ROLLUP_RETENTION_DAYS,
          rulesTickMs: config.TELEMETRY_RULES_TICK_MS,
          maintenance: config.TELEMETRY_MAINTENANCE,
        },
        maintenance: {
          windowDays: config.TELEMETRY_MAINTENANCE_WINDOW_DAYS,
          minLevels: config.TELEMETRY_MAINTENANCE_MIN_HOURS,
          horizonDays: config.TELEMETRY_MAINTENANCE_HORIZON_DAYS,
          marginHours: config.TELEMETRY_MAINTENANCE_MARGIN_HOURS,
          confirmHours: config.TELEMETRY_MAINTENANCE_CONFIRM_HOURS,
          refreshMs: config.TELEMETRY_MAINTENANCE_REFRESH_MS,
        },
      }),
      runtime.nestOptions(),
    );
    await runtime.serve(app, {
      host: config.TELEMETRY_HOST,
      httpPort: config.TELEMETRY_HTTP_PORT,
      grpcPort: config.TELEMETRY_GRPC_PORT,
      grpc: { protoRoot: protoRoot(), protoFiles: [ProtoFiles.telemetry], packages: [ProtoPackages.telemetry] },
      jsonLimit: config.TELEMETRY_JSON_LIMIT,
      openApi: {
        title: 'IIP telemetry',
        description:
          'Ingestion (MQTT, HTTP, gRPC) acknowledged once Kafka holds the points; time series, rollups, latest values, rules and alarms; rotating-equipment health and maintenance work orders.',
        version: '1',
      },
    });
    const running = runtime as RunningTelemetry;
    running.mqttPort = app.get(MqttEndpoint).port;
    running.upkeep = () => app.get(TelemetryLifecycle).upkeep();
    return running;
  });
}
