import { z } from 'zod';
import { EnvSource, loadConfig, platformEnvSchema, port, positiveInt } from '@iip/platform-config';

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
};

export type DeviceRegistryConfig = z.infer<z.ZodObject<typeof deviceRegistryEnvSchema>>;

export function loadDeviceRegistryConfig(env: EnvSource = process.env): DeviceRegistryConfig {
  return loadConfig(deviceRegistryEnvSchema, env);
}
