import { z } from 'zod';
import { ConfigError, EnvSource, loadConfig, platformEnvSchema, port, positiveInt, secret } from '@iip/platform-config';
import { canonicalPrefix, isHandleSyntaxError, parsePrefix } from './handles/handle-syntax';

/** Only for local runs; production refuses to start with it. */
export const DEV_IDENTIFIER_KEY_ENCRYPTION_SECRET = 'local-development-only-identifier-key-encryption-secret';

export const identifierEnvSchema = {
  ...platformEnvSchema,
  IDENTIFIER_HOST: z.string().default('0.0.0.0'),
  IDENTIFIER_HTTP_PORT: port(3200),
  IDENTIFIER_GRPC_PORT: port(50200),
  /** The prefix this node hosts (a secondary node such as 88.100); enterprise prefixes (digits) are allocated under it. Kept in canonical case. */
  IDENTIFIER_NODE_PREFIX: z
    .string()
    .default('88.100')
    .refine((v) => !isHandleSyntaxError(parsePrefix(v)), 'must be a Handle prefix: segments separated by dots, e.g. 88.100 or 21.T14999')
    .transform(canonicalPrefix),
  /** A top-level node also holds the delegations of the secondary nodes under it. */
  IDENTIFIER_NODE_ROLE: z.enum(['secondary', 'top-level']).default('secondary'),
  /** First number handed out for enterprise prefixes (88.100.<n>). */
  IDENTIFIER_PREFIX_START: positiveInt(1000),
  /** Upper bound of the in-process resolution cache, MiB of heap (estimated); keep it well under the process's heap limit. */
  IDENTIFIER_CACHE_MB: positiveInt(128),
  /** How long past its TTL a delegated node's answer may still be served (marked stale) when that node is down, seconds. */
  IDENTIFIER_STALE_WINDOW_S: positiveInt(300),
  /** Delegations followed at most, so a loop ends with an error. */
  IDENTIFIER_MAX_HOPS: positiveInt(4),
  /** Time allowed to a delegated node to answer, ms. */
  IDENTIFIER_UPSTREAM_TIMEOUT_MS: positiveInt(3000),
  /** Largest JSON body: a batch of 5,000 identifiers needs a few MB. */
  IDENTIFIER_JSON_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/)
    .default('8mb'),
  /** The native Handle protocol (RFC 3652) over TCP and UDP: the Handle System's 2641. */
  IDENTIFIER_HANDLE_PORT: port(2641),
  /** The native Handle protocol over HTTP (binary messages POSTed): the reference server's 8000. */
  IDENTIFIER_HANDLE_HTTP_PORT: port(8000),
  /** The address this node's HS_SITE publishes for its native interfaces (what clients connect to). */
  IDENTIFIER_HANDLE_PUBLIC_ADDRESS: z
    .string()
    .regex(/^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$/, 'must be an IPv4 or IPv6 address')
    .default('127.0.0.1'),
  /**
   * Seals handle identities' secret keys (HS_SECKEY) at rest beside their hash: the native Handle
   * protocol's challenge–response needs the secret itself. Changing it leaves stored keys usable
   * over HTTP Basic only, until they are set again.
   */
  IDENTIFIER_KEY_ENCRYPTION_SECRET: secret(
    z.string().min(32, 'must be at least 32 characters').default(DEV_IDENTIFIER_KEY_ENCRYPTION_SECRET),
    'IDENTIFIER_KEY_ENCRYPTION_SECRET',
  ),
  /** Failed handle-identity authentications (HTTP Basic and native) per identity and source address per minute before refusal. */
  IDENTIFIER_IDENTITY_MAX_FAILURES_PER_MINUTE: positiveInt(10),
  /** The same per source address over all identities. */
  IDENTIFIER_IDENTITY_MAX_FAILURES_PER_SOURCE_PER_MINUTE: positiveInt(50),
  /** Default TTL of a value that names none, seconds. */
  IDENTIFIER_DEFAULT_TTL: positiveInt(86_400),
};

export type IdentifierConfig = z.infer<z.ZodObject<typeof identifierEnvSchema>>;

export function loadIdentifierConfig(env: EnvSource = process.env): IdentifierConfig {
  const config = loadConfig(identifierEnvSchema, env);
  if (config.NODE_ENV === 'production' && config.IDENTIFIER_KEY_ENCRYPTION_SECRET === DEV_IDENTIFIER_KEY_ENCRYPTION_SECRET) {
    throw new ConfigError([{ variable: 'IDENTIFIER_KEY_ENCRYPTION_SECRET', message: 'must be set to a secret of your own in production' }]);
  }
  return config;
}
