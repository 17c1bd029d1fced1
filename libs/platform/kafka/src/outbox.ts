import { DataSource, EntityManager } from 'typeorm';
import { Producer } from 'kafkajs';
import { currentRequestId } from '@iip/platform-observability';
import { EventEnvelope } from './envelope';
import { TopicProvisioner } from './kafka-client';

/** DDL for a service's outbox and applied-events tables; called from the service's own migration. */
export function messagingTablesSql(schema: string): string[] {
  return [
    `CREATE TABLE "${schema}".outbox (
       seq bigserial PRIMARY KEY,
       event_id uuid NOT NULL UNIQUE,
       topic text NOT NULL,
       message_key text NOT NULL,
       envelope jsonb NOT NULL,
       headers jsonb NOT NULL DEFAULT '{}'::jsonb,
       created_at timestamptz NOT NULL DEFAULT now(),
       published_at timestamptz
     )`,
    `CREATE INDEX outbox_unpublished ON "${schema}".outbox (seq) WHERE published_at IS NULL`,
    `CREATE TABLE "${schema}".processed_events (
       consumer_group text NOT NULL,
       event_id text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (consumer_group, event_id)
     )`,
    ...bulkOutboxSql(schema),
  ];
}

/**
 * DDL for bulk outbox rows: one row carries the envelopes of a bulk write (`envelopes`, a JSON
 * array, lz4-compressed; `events` counts them) instead of a row per event. Idempotent, so a
 * service's later migration applies it to an outbox made before it and messagingTablesSql
 * includes it for a new one.
 */
export function bulkOutboxSql(schema: string): string[] {
  return [
    `ALTER TABLE "${schema}".outbox ALTER COLUMN envelope DROP NOT NULL`,
    `ALTER TABLE "${schema}".outbox ADD COLUMN IF NOT EXISTS envelopes json COMPRESSION lz4`,
    `ALTER TABLE "${schema}".outbox ADD COLUMN IF NOT EXISTS events integer NOT NULL DEFAULT 1`,
    `ALTER TABLE "${schema}".outbox DROP CONSTRAINT IF EXISTS outbox_one_kind`,
    `ALTER TABLE "${schema}".outbox ADD CONSTRAINT outbox_one_kind CHECK (
       (envelope IS NOT NULL AND envelopes IS NULL AND events = 1) OR (envelope IS NULL AND envelopes IS NOT NULL AND events >= 1))`,
  ];
}

/**
 * Undoes bulkOutboxSql: each bulk row becomes one row per event again (the first keeps the
 * bulk row's place, the others follow after the rows there are), so a previous release's
 * relay can read them.
 */
export function bulkOutboxDownSql(schema: string): string[] {
  return [
    `INSERT INTO "${schema}".outbox (event_id, topic, message_key, envelope, headers, created_at, published_at)
     SELECT (e->>'id')::uuid, o.topic, e->>'subject', e::jsonb, o.headers, o.created_at, o.published_at
       FROM "${schema}".outbox o, json_array_elements(o.envelopes) WITH ORDINALITY AS x(e, n)
      WHERE o.envelopes IS NOT NULL AND x.n > 1
      ORDER BY o.seq, x.n`,
    `UPDATE "${schema}".outbox SET envelope = envelopes->0, envelopes = NULL, events = 1 WHERE envelopes IS NOT NULL`,
    `ALTER TABLE "${schema}".outbox DROP CONSTRAINT outbox_one_kind`,
    `ALTER TABLE "${schema}".outbox DROP COLUMN envelopes, DROP COLUMN events`,
    `ALTER TABLE "${schema}".outbox ALTER COLUMN envelope SET NOT NULL`,
  ];
}

/** Published events are kept this long by default, so that an operator can replay them. */
export const DEFAULT_OUTBOX_RETENTION_HOURS = 168;

/** Rows removed per statement when pruning, so one prune never holds the lock for long. */
const PRUNE_BATCH = 10_000;

/** Name of the advisory lock that serialises publishing, pruning and replaying a schema's outbox. */
export const outboxLockName = (schema: string) => `iip-outbox:${schema}`;

async function tryOutboxLock(manager: EntityManager, schema: string): Promise<boolean> {
  const sql = 'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked';
  const [{ locked }] = await manager.query<{ locked: boolean }[]>(sql, [outboxLockName(schema)]);
  return locked;
}

/** From this many events on, one append is written as one bulk row (its envelopes in one JSON array). */
const BULK_FROM_EVENTS = 50;

/** Messages per Kafka produce request when a pass publishes more (a bulk row holds thousands). */
const MESSAGES_PER_SEND = 1_000;

/**
 * Appends events to the outbox inside the caller's transaction, so a state change and the
 * event announcing it commit (or roll back) together. A bulk write's events (thousands) go
 * into one row: the relay publishes them as separate messages, in their order.
 */
export class OutboxWriter {
  constructor(
    private readonly topicPrefix: string,
    private readonly onAppend?: () => void,
  ) {}

  async append(manager: EntityManager, topic: string, events: EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('OutboxWriter.append must run inside the transaction that changes the state');
    }
    const requestId = currentRequestId();
    const headers = JSON.stringify(requestId ? { 'x-request-id': requestId } : {});
    if (events.length >= BULK_FROM_EVENTS) {
      await manager.query(
        'INSERT INTO outbox (event_id, topic, message_key, envelopes, events, headers) VALUES ($1, $2, $3, $4::json, $5, $6::jsonb)',
        [events[0].id, this.topicPrefix + topic, events[0].subject, JSON.stringify(events), events.length, headers],
      );
    } else {
      const params: unknown[] = [];
      const rows = events.map((e, i) => {
        params.push(e.id, this.topicPrefix + topic, e.subject, JSON.stringify(e), headers);
        const b = i * 5;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::jsonb, $${b + 5}::jsonb)`;
      });
      await manager.query(`INSERT INTO outbox (event_id, topic, message_key, envelope, headers) VALUES ${rows.join(', ')}`, params);
    }
    this.onAppend?.();
  }
}

interface RelayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OutboxRelayOptions {
  schema: string;
  batchSize?: number;
  pollIntervalMs?: number;
  maxBackoffMs?: number;
  /** Hours published rows are kept for inspection and replay (replayOutbox), then removed. */
  retentionHours?: number;
  onPublished?: (topic: string, count: number) => void;
}

/**
 * Publishes the outbox to Kafka in order. One instance at a time holds the schema's advisory
 * lock, so per-key order survives several replicas. When Kafka is down the rows simply wait:
 * writes never block on the broker and nothing is lost.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private producerConnected = false;
  private failingSince?: number;
  private lastCleanup = 0;
  private stopping = new AbortController();

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Producer,
    private readonly topics: TopicProvisioner,
    private readonly logger: RelayLogger,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.loop = this.run();
  }

  /** Ask for an immediate pass (called after a commit that appended events). */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    // Also ends a wait for a broker that is not ready yet.
    this.stopping.abort(new Error('outbox relay stopping'));
    this.wake();
    await this.loop;
    if (this.producerConnected) await this.producer.disconnect().catch(() => undefined);
    this.producerConnected = false;
  }

  /** One pass: publish up to one batch. Returns how many events were published. */
  async publishOnce(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      if (!(await tryOutboxLock(runner.manager, this.options.schema))) {
        await runner.rollbackTransaction();
        return 0;
      }
      // Only the rows that start before batchSize messages are read; PostgreSQL expands a bulk
      // row's envelopes into one text each, so they are neither parsed nor serialised here.
      const rows = (await runner.query(
        `SELECT o.seq, o.topic, o.headers,
                coalesce(e.value, o.envelope::json)::text AS value,
                CASE WHEN o.envelopes IS NULL THEN o.message_key ELSE e.value->>'subject' END AS key,
                coalesce(e.value, o.envelope::json)->>'type' AS type,
                coalesce(e.value, o.envelope::json)->>'id' AS id
           FROM outbox o
           JOIN (SELECT seq, sum(events) OVER (ORDER BY seq) - events AS before
                   FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1) w ON w.seq = o.seq
           LEFT JOIN LATERAL json_array_elements(o.envelopes) WITH ORDINALITY AS e(value, n) ON true
          WHERE w.before < $1
          ORDER BY o.seq, e.n`,
        [batchSize],
      )) as { seq: string; topic: string; headers: Record<string, string>; value: string; key: string; type: string; id: string }[];
      if (rows.length === 0) {
        await runner.rollbackTransaction();
        return 0;
      }
      // Whole rows in seq order, about batchSize messages (a bulk row is never split).
      const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
      const seqs = new Set<string>();
      for (const row of rows) {
        let list = byTopic.get(row.topic);
        if (!list) byTopic.set(row.topic, (list = []));
        list.push({
          key: row.key,
          value: row.value,
          headers: { ...row.headers, 'content-type': 'application/json', 'event-type': row.type, 'event-id': row.id },
        });
        seqs.add(row.seq);
      }
      const messages = rows.length;
      // First, so that on a fresh broker the relay waits for it to be ready before connecting.
      await this.topics.ensure([...byTopic.keys()], this.stopping.signal);
      if (!this.producerConnected) {
        await this.producer.connect();
        this.producerConnected = true;
      }
      // In order; a pass that fails part-way sends it all again next time (consumers apply each event id once).
      for (const [topic, list] of byTopic) {
        for (let from = 0; from < list.length; from += MESSAGES_PER_SEND) {
          await this.producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: list.slice(from, from + MESSAGES_PER_SEND) }] });
        }
      }
      await runner.query('UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])', [[...seqs]]);
      await runner.commitTransaction();
      for (const [topic, list] of byTopic) this.options.onPublished?.(topic, list.length);
      return messages;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  private async run(): Promise<void> {
    const pollMs = this.options.pollIntervalMs ?? 100;
    const maxBackoff = this.options.maxBackoffMs ?? 5_000;
    let backoff = pollMs;
    while (this.running) {
      let published = 0;
      try {
        published = await this.publishOnce();
        if (this.failingSince !== undefined) {
          this.logger.info({ outageMs: Date.now() - this.failingSince }, 'outbox relay recovered');
          this.failingSince = undefined;
        }
        backoff = pollMs;
        await this.cleanup();
      } catch (err) {
        if (!this.running) break; // stopped mid-pass (e.g. while waiting for a broker): nothing to report
        if (this.failingSince === undefined) {
          this.failingSince = Date.now();
          this.logger.warn({ err: (err as Error).message }, 'outbox relay cannot publish yet; events stay in the outbox');
        }
        // The producer may be in a bad state after a broker outage: reconnect next time.
        if (this.producerConnected) await this.producer.disconnect().catch(() => undefined);
        this.producerConnected = false;
        backoff = Math.min(backoff * 2, maxBackoff);
        await this.sleep(backoff);
        continue;
      }
      if (published < (this.options.batchSize ?? 500)) await this.sleep(pollMs);
    }
  }

  /**
   * Removes published rows past the retention period, in batches, each under the schema's
   * advisory lock so that it never interleaves with a publishing pass or a replay.
   */
  /** Prunes published rows past retention, once a minute; a pass that finds the lock taken (another relay publishing) tries again next time. */
  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    const hours = this.options.retentionHours ?? DEFAULT_OUTBOX_RETENTION_HOURS;
    for (let deleted = PRUNE_BATCH; deleted === PRUNE_BATCH && this.running;) {
      const pruned = await this.dataSource.transaction(async (manager) => {
        if (!(await tryOutboxLock(manager, this.options.schema))) return undefined;
        const [{ n }] = await manager.query<{ n: number }[]>(
          `WITH pruned AS (
             DELETE FROM outbox WHERE seq IN (
               SELECT seq FROM outbox WHERE published_at < now() - make_interval(hours => $1) ORDER BY seq LIMIT $2)
             RETURNING 1)
           SELECT count(*)::int AS n FROM pruned`,
          [hours, PRUNE_BATCH],
        );
        return n;
      });
      if (pruned === undefined) return;
      this.lastCleanup = Date.now();
      deleted = pruned;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
