import { z } from 'zod';

/** Names of variables whose values must never be printed. */
const secretKeys = new Set<string>();

/** Marks a schema entry as a secret: it is validated like any other value but never echoed. */
export function secret<T extends z.ZodTypeAny>(schema: T, envName: string): T {
  secretKeys.add(envName);
  return schema;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Integer port with a local default. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * The infrastructure every service shares. Defaults point at the local machine so a fresh
 * clone runs without a .env file.
 */
export const platformEnvSchema = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/iip'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('iip:'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port[,host:port...]')).min(1)),
  KAFKA_CLIENT_ID: z.string().optional(),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'only letters, digits, ".", "_" and "-"')
    .default(''),
  KAFKA_TOPIC_PARTITIONS: positiveInt(6),
  KAFKA_REPLICATION_FACTOR: positiveInt(1),
  /** Access tokens are verified against tenancy's JWKS; `iss` must match. */
  AUTH_ISSUER: z.string().min(1).default('iip-tenancy'),
  AUTH_JWKS_URL: z.string().url().default('http://127.0.0.1:3100/.well-known/jwks.json'),
  /**
   * How far back, seconds, an instance reads revocations (revoked clients, suspended tenants)
   * when it starts: at least the longest access token lifetime (tenancy's ACCESS_TOKEN_TTL_SECONDS).
   */
  AUTH_REVOCATION_WINDOW_S: positiveInt(86_400),
  /** Connections each service instance keeps to PostgreSQL. */
  DATABASE_POOL_SIZE: positiveInt(10),
  /** How often the outbox relay looks for events to publish when nothing woke it. */
  OUTBOX_POLL_MS: positiveInt(100),
  /** How long published outbox events are kept, hours, so `npm run outbox:replay` can send them again. */
  OUTBOX_RETENTION_HOURS: positiveInt(168),
};

export type PlatformConfig = z.infer<z.ZodObject<typeof platformEnvSchema>>;

export type EnvSource = Record<string, string | undefined>;

/**
 * Validates `env` against `shape` once, at boot. Empty strings count as unset so that a
 * blank line in .env falls back to the default. Throws ConfigError naming every bad variable.
 */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: EnvSource = process.env): z.infer<z.ZodObject<S>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = z.object(shape).safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '?');
        const shown = secretKeys.has(variable) ? '' : input[variable] !== undefined ? ` (got "${input[variable]}")` : '';
        return { variable, message: issue.message + shown };
      }),
    );
  }
  return result.data;
}

/** Returns a copy of `config` with secret values replaced, safe to log. */
export function redactConfig<T extends Record<string, unknown>>(config: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = secretKeys.has(k) ? '[secret]' : typeof v === 'string' ? redactUrlPassword(v) : v;
  return out;
}

/** Connection URLs may carry a password (postgres://user:pass@host): keep the rest, hide that. */
export function redactUrlPassword(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

/** Loads the config or stops the process with a message naming the variable. */
export function loadConfigOrExit<S extends z.ZodRawShape>(shape: S, env: EnvSource = process.env): z.infer<z.ZodObject<S>> {
  try {
    return loadConfig(shape, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
