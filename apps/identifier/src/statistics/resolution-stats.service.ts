import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '@iip/platform-auth';
import { AppLogger, InjectLogger } from '@iip/platform-observability';
import { isHandleSyntaxError, parsePrefix } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { IDENTIFIER_DATA_SOURCE } from '../prefixes/prefixes.repository';
import { PrefixesService } from '../prefixes/prefixes.service';

const FLUSH_EVERY_MS = 2_000;

export interface CountPoint {
  period: string;
  count: number;
}

/**
 * Resolution counts per prefix and hour. The hot path only bumps an in-process counter; a
 * flush every two seconds adds the counts to PostgreSQL with one multi-row upsert, so several
 * instances add up instead of overwriting each other.
 */
@Injectable()
export class ResolutionStatsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private pending = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly prefixes: PrefixesService,
    @InjectLogger() private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'resolution counts not flushed yet'));
    }, FLUSH_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }

  count(prefix: string): void {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const key = `${prefix}\u0000${hour}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const params: unknown[] = [];
    const rows = [...batch].map(([key, n], i) => {
      const [prefix, hour] = key.split('\u0000');
      params.push(prefix, new Date(Number(hour)).toISOString(), n);
      return `($${i * 3 + 1}, $${i * 3 + 2}::timestamptz, $${i * 3 + 3})`;
    });
    try {
      await this.dataSource.query(
        `INSERT INTO resolution_counts (prefix, hour, count) VALUES ${rows.join(', ')}
         ON CONFLICT (prefix, hour) DO UPDATE SET count = resolution_counts.count + EXCLUDED.count`,
        params,
      );
    } catch (err) {
      // Keep the counts for the next flush rather than losing them.
      for (const [key, n] of batch) this.pending.set(key, (this.pending.get(key) ?? 0) + n);
      throw err;
    }
  }

  /** Counts for a prefix the caller owns (or the operator), per hour or per day, between two instants. */
  async series(actor: Principal, requested: string, granularity: 'hour' | 'day', from: Date, to: Date): Promise<CountPoint[]> {
    const prefix = parsePrefix(requested);
    if (isHandleSyntaxError(prefix)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, prefix.message);
    if (actor.tenant.kind !== 'platform') await this.prefixes.writablePrefix(actor, prefix);
    if (!(from < to)) throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, '`from` must be before `to`');
    if (to.getTime() - from.getTime() > 366 * 86_400_000)
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'At most one year per query');
    await this.flush().catch(() => undefined);
    const rows: { period: Date; count: string }[] = await this.dataSource.query(
      `SELECT date_trunc($2, hour) AS period, sum(count) AS count FROM resolution_counts
        WHERE prefix = $1 AND hour >= $3 AND hour < $4 GROUP BY 1 ORDER BY 1`,
      [prefix, granularity, from, to],
    );
    return rows.map((r) => ({ period: new Date(r.period).toISOString(), count: Number(r.count) }));
  }
}
