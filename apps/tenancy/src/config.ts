import { z } from 'zod';
import { ConfigError, EnvSource, loadConfig, platformEnvSchema, port, positiveInt, secret } from '@iip/platform-config';
import { isValidCreditCode } from './tenants/credit-code';

/** Only for local runs; production refuses to start with it. */
export const DEV_KEY_ENCRYPTION_SECRET = 'local-development-only-key-encryption-secret';

export const tenancyEnvSchema = {
  ...platformEnvSchema,
  TENANCY_HOST: z.string().default('0.0.0.0'),
  TENANCY_HTTP_PORT: port(3100),
  TENANCY_GRPC_PORT: port(50100),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  SIGNING_KEY_ROTATION_HOURS: positiveInt(720),
  TENANCY_KEY_ENCRYPTION_SECRET: secret(
    z.string().min(32, 'must be at least 32 characters').default(DEV_KEY_ENCRYPTION_SECRET),
    'TENANCY_KEY_ENCRYPTION_SECRET',
  ),
  OPERATOR_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,100}$/, 'letters, digits, "_", "." or "-", 3 to 100 characters')
    .optional(),
  OPERATOR_CLIENT_SECRET: secret(z.string().min(24, 'must be at least 24 characters').max(200).optional(), 'OPERATOR_CLIENT_SECRET'),
  PLATFORM_TENANT_NAME: z.string().min(1).max(200).default('IIP platform operator'),
  PLATFORM_CREDIT_CODE: z
    .string()
    .refine(isValidCreditCode, 'must be a valid unified social credit code (GB 32100-2015)')
    .default('91350100M000100Y43'),
  TOKEN_MAX_FAILURES_PER_MINUTE: positiveInt(10),
  /** Failed token requests per source address over all client ids, per minute (slows spraying). */
  TOKEN_MAX_FAILURES_PER_SOURCE_PER_MINUTE: positiveInt(50),
  /**
   * Express "trust proxy": which hops' X-Forwarded-For to believe for the caller's address
   * (e.g. `loopback`, `10.0.0.0/8`, `1`). Unset, the socket's address is the caller's.
   */
  TENANCY_TRUST_PROXY: z.string().max(500).optional(),
  HTTP_JSON_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/)
    .default('256kb'),
  BULK_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/)
    .default('20mb'),
  ONBOARDING_POLL_MS: positiveInt(1000),
};

export type TenancyConfig = z.infer<z.ZodObject<typeof tenancyEnvSchema>>;

export function loadTenancyConfig(env: EnvSource = process.env): TenancyConfig {
  const config = loadConfig(tenancyEnvSchema, env);
  const problems: { variable: string; message: string }[] = [];
  if (config.NODE_ENV === 'production' && config.TENANCY_KEY_ENCRYPTION_SECRET === DEV_KEY_ENCRYPTION_SECRET) {
    problems.push({ variable: 'TENANCY_KEY_ENCRYPTION_SECRET', message: 'must be set to a secret of your own in production' });
  }
  if ((config.OPERATOR_CLIENT_ID === undefined) !== (config.OPERATOR_CLIENT_SECRET === undefined)) {
    problems.push({
      variable: config.OPERATOR_CLIENT_ID ? 'OPERATOR_CLIENT_SECRET' : 'OPERATOR_CLIENT_ID',
      message: 'set OPERATOR_CLIENT_ID and OPERATOR_CLIENT_SECRET together, or neither',
    });
  }
  if (config.ACCESS_TOKEN_TTL_SECONDS > config.AUTH_REVOCATION_WINDOW_S) {
    // A fresh instance reads revocations this far back; a longer-lived token could outlast what it knows.
    problems.push({ variable: 'ACCESS_TOKEN_TTL_SECONDS', message: 'must not exceed AUTH_REVOCATION_WINDOW_S' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
