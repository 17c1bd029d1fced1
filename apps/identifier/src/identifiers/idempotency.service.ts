import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { IDENTIFIER_DATA_SOURCE } from '../prefixes/prefixes.repository';

export interface WriteOutcome {
  status: number;
  body: Record<string, unknown>;
}

/** An Idempotency-Key as clients send it (header or gRPC field); empty means none. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(value))
    throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'Idempotency-Key must be 1–200 visible ASCII characters');
  return value;
}

export function requestHash(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * `Idempotency-Key`: the first request with a key does the write and stores its answer in the
 * same transaction; a retry with the same key and request gets that answer back and writes
 * nothing; the same key with another request is refused. A concurrent duplicate waits for the
 * first to commit (the key's row lock), then replays it.
 */
@Injectable()
export class IdempotencyService {
  constructor(@Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource) {}

  run(
    tenantId: string,
    key: string | undefined,
    hash: string,
    work: (manager: EntityManager) => Promise<WriteOutcome>,
  ): Promise<WriteOutcome & { replayed: boolean }> {
    return this.dataSource.transaction(async (manager) => {
      if (!key) return { ...(await work(manager)), replayed: false };
      const claimed: unknown[] = await manager.query(
        `INSERT INTO idempotency_keys (tenant_id, idem_key, request_hash, status, body) VALUES ($1, $2, $3, 0, 'null') ON CONFLICT DO NOTHING RETURNING idem_key`,
        [tenantId, key, hash],
      );
      if (claimed.length === 0) {
        const [previous]: { request_hash: string; status: number; body: Record<string, unknown> }[] = await manager.query(
          'SELECT request_hash, status, body FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2',
          [tenantId, key],
        );
        if (previous.request_hash !== hash) {
          throw new IdentifierError(IdentifierErrorCode.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used for a different request');
        }
        return { status: previous.status, body: previous.body, replayed: true };
      }
      const outcome = await work(manager);
      await manager.query('UPDATE idempotency_keys SET status = $3, body = $4::jsonb WHERE tenant_id = $1 AND idem_key = $2', [
        tenantId,
        key,
        outcome.status,
        JSON.stringify(outcome.body),
      ]);
      return { ...outcome, replayed: false };
    });
  }
}
