/** A dependency whose reachability decides readiness. */
export interface HealthIndicator {
  readonly name: string;
  /**
   * A critical dependency being down makes the instance unready (503). A non-critical one
   * (Kafka, behind the outbox) only degrades it: writes still succeed and events wait.
   */
  readonly critical?: boolean;
  check(): Promise<void>;
}

export interface ReadinessReport {
  status: 'ok' | 'degraded' | 'error';
  checks: Record<string, { status: 'up' | 'down'; error?: string; latencyMs: number }>;
}

/** Collects indicators registered by the platform modules (database, redis, kafka). */
export class HealthRegistry {
  private readonly indicators: HealthIndicator[] = [];

  register(indicator: HealthIndicator): void {
    this.indicators.push(indicator);
  }

  async readiness(timeoutMs = 2000): Promise<ReadinessReport> {
    const checks: ReadinessReport['checks'] = {};
    await Promise.all(
      this.indicators.map(async (indicator) => {
        const started = performance.now();
        try {
          await withTimeout(indicator.check(), timeoutMs, `${indicator.name} did not answer within ${timeoutMs} ms`);
          checks[indicator.name] = { status: 'up', latencyMs: Math.round(performance.now() - started) };
        } catch (err) {
          checks[indicator.name] = {
            status: 'down',
            error: err instanceof Error ? err.message : String(err),
            latencyMs: Math.round(performance.now() - started),
          };
        }
      }),
    );
    const down = this.indicators.filter((i) => checks[i.name]?.status === 'down');
    const status = down.length === 0 ? 'ok' : down.some((i) => i.critical !== false) ? 'error' : 'degraded';
    return { status, checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
