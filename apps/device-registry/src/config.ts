import { z } from 'zod';
import { ConfigError, EnvSource, loadConfig, platformEnvSchema, port, positiveInt, secret } from '@iip/platform-config';

/** Only for local runs; production refuses to start with it. */
export const DEV_CREDENTIAL_KEY = 'local-development-only-device-credential-key';

export const deviceRegistryEnvSchema = {
  ...platformEnvSchema,
  DEVICE_REGISTRY_HOST: z.string().default('0.0.0.0'),
  DEVICE_REGISTRY_HTTP_PORT: port(3300),
  DEVICE_REGISTRY_GRPC_PORT: port(50300),
  /** Where people and partner systems reach this registry: the URL value of each device's identifier, exported TDs' base. */
  DEVICE_REGISTRY_PUBLIC_URL: z.string().url().default('http://127.0.0.1:3300'),
  /** The token endpoint exported Thing Descriptions name for their bearer security scheme. */
  DEVICE_REGISTRY_TOKEN_URL: z.string().url().default('http://127.0.0.1:3100/oauth/token'),
  DEVICE_REGISTRY_JSON_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/)
    .default('1mb'),
  /** Compiled thing models kept in memory (each a set of validators). */
  DEVICE_REGISTRY_MODEL_CACHE_SIZE: positiveInt(1000),
  /** Key of the HMAC that device secrets are stored as (README, "Device credentials"). Changing it invalidates every device secret. */
  DEVICE_REGISTRY_CREDENTIAL_KEY: secret(
    z.string().min(32, 'must be at least 32 characters').default(DEV_CREDENTIAL_KEY),
    'DEVICE_REGISTRY_CREDENTIAL_KEY',
  ),
  /** Devices whose active credentials are kept in memory for AuthenticateDevice. */
  DEVICE_REGISTRY_CREDENTIAL_CACHE_SIZE: positiveInt(100_000),
  /** Longest a cached credential set lives without an event (events drop it at once), ms. */
  DEVICE_REGISTRY_CREDENTIAL_CACHE_TTL_MS: positiveInt(300_000),
  /** Tenancy's gRPC address, asked (CheckAccess) whether a tenant granted the caller devices:read. */
  DEVICE_REGISTRY_TENANCY_GRPC_URL: z.string().min(1).default('127.0.0.1:50100'),
  /** Bulk imports: rows and MiB per upload, rows per transaction, poll interval of the worker. */
  DEVICE_REGISTRY_IMPORT_MAX_ROWS: positiveInt(1_000_000),
  DEVICE_REGISTRY_IMPORT_MAX_MB: positiveInt(512),
  DEVICE_REGISTRY_IMPORT_CHUNK_ROWS: z.coerce.number().int().min(1).max(10_000).default(1000),
  DEVICE_REGISTRY_IMPORT_POLL_MS: positiveInt(1000),
  /** How often the renewal worker looks for tenants still lacking this month's indicator snapshot, ms. */
  DEVICE_REGISTRY_RENEWAL_SNAPSHOT_POLL_MS: positiveInt(300_000),
};

export type DeviceRegistryConfig = z.infer<z.ZodObject<typeof deviceRegistryEnvSchema>>;

export function loadDeviceRegistryConfig(env: EnvSource = process.env): DeviceRegistryConfig {
  const config = loadConfig(deviceRegistryEnvSchema, env);
  if (config.NODE_ENV === 'production' && config.DEVICE_REGISTRY_CREDENTIAL_KEY === DEV_CREDENTIAL_KEY) {
    throw new ConfigError([{ variable: 'DEVICE_REGISTRY_CREDENTIAL_KEY', message: 'must be set to a secret of your own in production' }]);
  }
  return config;
}
