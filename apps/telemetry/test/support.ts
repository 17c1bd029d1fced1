import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment } from '@iip/platform-testing';
import { loadTelemetryConfig } from '../src/config';
import { RunningTelemetry, startTelemetry } from '../src/telemetry-app';

export type { RunningTelemetry };

/** Starts telemetry on free ports (HTTP, gRPC, MQTT) in a test environment, asking the given tenancy and registry. */
export function startTestTelemetry(
  env: TestEnvironment,
  peers: { tenancyUrl: string; tenancyGrpcUrl?: string; registry: ServiceRuntime; client: { clientId: string; secret: string } },
  overrides: Record<string, string> = {},
): Promise<RunningTelemetry> {
  return startTelemetry(
    loadTelemetryConfig(
      env.env({
        TELEMETRY_HOST: '127.0.0.1',
        TELEMETRY_HTTP_PORT: '0',
        TELEMETRY_GRPC_PORT: '0',
        TELEMETRY_MQTT_PORT: '0',
        AUTH_JWKS_URL: `${peers.tenancyUrl}/.well-known/jwks.json`,
        TELEMETRY_TOKEN_URL: `${peers.tenancyUrl}/oauth/token`,
        TELEMETRY_CLIENT_ID: peers.client.clientId,
        TELEMETRY_CLIENT_SECRET: peers.client.secret,
        TELEMETRY_DEVICE_REGISTRY_GRPC_URL: peers.registry.grpcUrl,
        ...(peers.tenancyGrpcUrl ? { TELEMETRY_TENANCY_GRPC_URL: peers.tenancyGrpcUrl } : {}),
        TELEMETRY_POINTS_PARTITIONS: '4',
        TELEMETRY_RULES_TICK_MS: '250',
        DATABASE_POOL_SIZE: '6',
        ...overrides,
      }),
    ),
  );
}
export * from './pump-simulation';
