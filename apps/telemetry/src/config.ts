import { z } from 'zod';
import { EnvSource, bool, loadConfig, platformEnvSchema, port, positiveInt, secret } from '@iip/platform-config';
import { bridgesSchema } from './bridge/edge-bridge';

export const telemetryEnvSchema = {
  ...platformEnvSchema,
  TELEMETRY_HOST: z.string().default('0.0.0.0'),
  TELEMETRY_HTTP_PORT: port(3400),
  TELEMETRY_GRPC_PORT: port(50400),
  /** The MQTT endpoint devices connect to (MQTT 3.1.1 and 5); 0 picks a free port. */
  TELEMETRY_MQTT_PORT: port(1884),
  /** PEM files: when both are set the MQTT endpoint speaks TLS (clients may then present certificates). */
  TELEMETRY_MQTT_TLS_CERT: z.string().optional(),
  TELEMETRY_MQTT_TLS_KEY: z.string().optional(),
  TELEMETRY_MQTT_TLS_CA: z.string().optional(),
  /** The device registry's gRPC address (AuthenticateDevice, GetThingModel). */
  TELEMETRY_DEVICE_REGISTRY_GRPC_URL: z.string().min(1).default('127.0.0.1:50300'),
  /** Tenancy's gRPC address, asked (CheckAccess, with the caller's token) whether a device's tenant granted the caller telemetry:read. */
  TELEMETRY_TENANCY_GRPC_URL: z.string().min(1).default('127.0.0.1:50100'),
  /** Tenancy's token endpoint and this service's own client (needs devices:authenticate and devices:read). */
  TELEMETRY_TOKEN_URL: z.string().url().default('http://127.0.0.1:3100/oauth/token'),
  TELEMETRY_CLIENT_ID: z.string().min(1).default('local-operator'),
  TELEMETRY_CLIENT_SECRET: secret(z.string().min(1).optional(), 'TELEMETRY_CLIENT_SECRET'),
  /** Partitions of iip.telemetry.points.v1 (keyed by device): how many writers can share the work. */
  TELEMETRY_POINTS_PARTITIONS: positiveInt(12),
  /** Points per stored batch at most, and the longest a point waits for its batch to fill, ms. */
  TELEMETRY_WRITER_BATCH_POINTS: positiveInt(20_000),
  /** Start the batched writer in this instance (a deployment may run writers apart from the endpoints). */
  TELEMETRY_WRITER: bool(true),
  /** Day rollups and the default zone of aggregate queries (IANA name). */
  TELEMETRY_TIME_ZONE: z.string().min(1).default('Asia/Shanghai'),
  /** Default retention when a tenant sets none (PUT /v1/telemetry/retention), days. */
  TELEMETRY_RAW_RETENTION_DAYS: positiveInt(30),
  TELEMETRY_ROLLUP_RETENTION_DAYS: positiveInt(730),
  /** Partitions (one per day) created ahead of today. */
  TELEMETRY_PARTITIONS_AHEAD_DAYS: positiveInt(3),
  /** Points further in the future than this are refused (a device with a wrong clock), s. */
  TELEMETRY_MAX_FUTURE_S: positiveInt(300),
  /** Points per HTTP request, gRPC batch or MQTT message at most. */
  TELEMETRY_MAX_POINTS_PER_MESSAGE: positiveInt(10_000),
  TELEMETRY_JSON_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/)
    .default('4mb'),
  /**
   * Site brokers the edge bridge takes telemetry from, as JSON (README, "Edge bridge"): a list of
   * {name, url, username?, password?, tenantId, clientId?, mappings: [{topic, device, property?, kind?}]}.
   * Secret: it may hold broker passwords.
   */
  TELEMETRY_BRIDGES: secret(
    z
      .string()
      .default('[]')
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'is not JSON' });
          return z.NEVER;
        }
      })
      .pipe(bridgesSchema),
    'TELEMETRY_BRIDGES',
  ),
  /** Run the configured bridges in this instance (run them in one instance only: each holds one session per site broker). */
  TELEMETRY_BRIDGE: bool(true),
  /** Rule evaluation interval for no-data rules, ms. */
  TELEMETRY_RULES_TICK_MS: positiveInt(1000),
  /** Run the health evaluator (its own consumer group on iip.telemetry.points.v1) in this instance. */
  TELEMETRY_MAINTENANCE: bool(true),
  /** Hourly vibration levels the trend looks back over, days. */
  TELEMETRY_MAINTENANCE_WINDOW_DAYS: positiveInt(10),
  /** Hourly levels needed before a trend (and so a remaining life) is trusted. */
  TELEMETRY_MAINTENANCE_MIN_HOURS: positiveInt(72),
  /** A remaining life within this many days is a prediction and opens a work order. */
  TELEMETRY_MAINTENANCE_HORIZON_DAYS: positiveInt(30),
  /** A work order is due this long before the remaining life's lower bound, hours. */
  TELEMETRY_MAINTENANCE_MARGIN_HOURS: positiveInt(24),
  /** Consecutive hourly evaluations within the horizon before they are a prediction. */
  TELEMETRY_MAINTENANCE_CONFIRM_HOURS: positiveInt(6),
  /** How often an instance looks for profiles put on other instances, ms. */
  TELEMETRY_MAINTENANCE_REFRESH_MS: positiveInt(5000),
};

export type TelemetryConfig = z.infer<z.ZodObject<typeof telemetryEnvSchema>>;

export function loadTelemetryConfig(env: EnvSource = process.env): TelemetryConfig {
  return loadConfig(telemetryEnvSchema, env);
}
