import { DataSource } from 'typeorm';
import { outboxLockName } from './outbox';

/** A request an operator got wrong (bad time, unknown service): the command exits with code 2. */
export class OutboxReplayInputError extends Error {
  override name = 'OutboxReplayInputError';
}

export interface OutboxReplayWindow {
  /** Events created at or after this instant are replayed... */
  since: Date;
  /** ...and before this one (open-ended when absent). */
  until?: Date;
}

export interface OutboxReplayResult {
  /** Published events marked unpublished again (on a dry run: that would be). */
  events: number;
  byTopic: { topic: string; events: number }[];
  /** Events of the window not yet published at all; the relay sends them anyway. */
  alreadyPending: number;
  /** When the oldest event the outbox still holds was created (none: the outbox is empty). */
  oldestRetained?: Date;
}

// ISO 8601 with an explicit offset: a replay window must not depend on the operator's time zone.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** Parses one bound of a replay window, e.g. 2026-12-01T00:00:00Z or 2026-12-01T08:00+08:00. */
export function parseReplayTime(option: string, value: string): Date {
  const m = TIMESTAMP.exec(value);
  const at = m ? new Date(value) : undefined;
  if (!m || !at || Number.isNaN(at.getTime())) {
    throw new OutboxReplayInputError(`${option} must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z (got "${value}")`);
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number(part ?? 0));
  // Date rolls 2026-02-30 over into March; refuse it rather than replay from a day nobody meant.
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new OutboxReplayInputError(`${option} is not a real date and time (got "${value}")`);
  }
  return at;
}

export function parseReplayWindow(since: string | undefined, until: string | undefined, now = new Date()): OutboxReplayWindow {
  if (since === undefined) throw new OutboxReplayInputError('--since is required, e.g. --since 2026-12-01T00:00:00Z');
  const window: OutboxReplayWindow = { since: parseReplayTime('--since', since) };
  if (window.since > now) throw new OutboxReplayInputError(`--since ${since} is in the future: there is nothing to replay yet`);
  if (until !== undefined) {
    window.until = parseReplayTime('--until', until);
    if (window.until <= window.since) throw new OutboxReplayInputError(`--until ${until} must be later than --since ${since}`);
  }
  return window;
}

/** Schemas of this database that hold an outbox: the services a replay can name. */
export async function outboxSchemas(dataSource: DataSource): Promise<string[]> {
  const rows = await dataSource.query<{ schema: string }[]>(
    `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'outbox' ORDER BY table_schema`,
  );
  return rows.map((r) => r.schema);
}

/**
 * Marks the published events of `schema`'s outbox created in the window as unpublished, so
 * the service's running relay sends them again, in their original (seq) order. For a broker
 * that lost them or never had them (a fresh cluster against an existing database). Consumers
 * apply each event id once, so whoever already had an event skips it as a duplicate. Only
 * what the outbox still holds can be replayed: published events are pruned after the
 * relay's retention period (OUTBOX_RETENTION_HOURS).
 *
 * Runs under the schema's outbox lock, so the relay sees the replay whole, never half-applied.
 */
export async function replayOutbox(
  dataSource: DataSource,
  schema: string,
  window: OutboxReplayWindow,
  options: { dryRun?: boolean } = {},
): Promise<OutboxReplayResult> {
  if (!SCHEMA.test(schema)) throw new OutboxReplayInputError(`"${schema}" is not a service schema name`);
  if (window.until && window.until <= window.since) throw new OutboxReplayInputError('the window must end after it starts');
  return dataSource.transaction(async (manager) => {
    const [{ found }] = await manager.query<{ found: boolean }[]>('SELECT to_regclass($1) IS NOT NULL AS found', [`"${schema}".outbox`]);
    if (!found) throw new OutboxReplayInputError(`schema "${schema}" has no outbox in this database`);
    // Waits for a publishing pass or a prune in progress to finish.
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [outboxLockName(schema)]);
    const params = [window.since.toISOString(), window.until?.toISOString() ?? null];
    const inWindow = 'created_at >= $1::timestamptz AND ($2::timestamptz IS NULL OR created_at < $2::timestamptz)';
    const [summary] = await manager.query<{ pending: number; oldest: Date | null }[]>(
      `SELECT coalesce(sum(events) FILTER (WHERE published_at IS NULL AND ${inWindow}), 0)::int AS pending, min(created_at) AS oldest FROM "${schema}".outbox`,
      params,
    );
    const byTopic = await manager.query<{ topic: string; events: number }[]>(
      options.dryRun
        ? `SELECT topic, sum(events)::int AS events FROM "${schema}".outbox
           WHERE published_at IS NOT NULL AND ${inWindow} GROUP BY topic ORDER BY topic`
        : `WITH replayed AS (
             UPDATE "${schema}".outbox SET published_at = NULL WHERE published_at IS NOT NULL AND ${inWindow} RETURNING topic, events)
           SELECT topic, sum(events)::int AS events FROM replayed GROUP BY topic ORDER BY topic`,
      params,
    );
    return {
      events: byTopic.reduce((n, t) => n + t.events, 0),
      byTopic,
      alreadyPending: summary.pending,
      oldestRetained: summary.oldest ?? undefined,
    };
  });
}
