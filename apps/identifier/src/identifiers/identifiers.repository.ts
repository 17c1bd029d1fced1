import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { PrefixEntity, ownerRef } from '../prefixes/prefix.entity';
import { IDENTIFIER_DATA_SOURCE } from '../prefixes/prefixes.repository';
import type { TenantRef } from '@iip/platform-auth';
import { copyRows, preparedQuery } from '@iip/platform-database';
import type { CachedValue } from '../resolution/record-cache';
import { maskedSecretKey } from '../identities/handle-identity';
import { IdentifierEntity, IdentifierValueEntity } from './identifier.entity';

/** An identifier as resolution needs it: display handle, version, the owner of its prefix, its values in index order. */
export interface ResolvableRecord {
  handle: string;
  version: number;
  owner?: TenantRef;
  values: CachedValue[];
}

/** One row per value (a LEFT JOIN: one row with idx null when there are none). */
type ResolvableRow = Pick<IdentifierValueEntity, 'type' | 'format' | 'value' | 'ttl' | 'access' | 'grantees'> &
  Pick<PrefixEntity, 'tenantId' | 'tenantKind' | 'tenantPath'> & {
    handle: string;
    version: number;
    idx: number | null;
    updated_at: Date;
  };

/** The owner of an identifier's prefix, selected beside it (aliases as PrefixEntity names them, for ownerRef). */
const PREFIX_OWNER_COLUMNS = `p.tenant_id AS "tenantId", p.tenant_kind AS "tenantKind", p.tenant_path AS "tenantPath"`;

const RESOLVABLE_SQL = `
  SELECT i.handle, i.version, ${PREFIX_OWNER_COLUMNS},
         v.idx, v.type, v.format, v.value, v.ttl, v.access, v.grantees, v.updated_at
    FROM identifiers i
    LEFT JOIN prefixes p ON p.prefix = i.prefix
    LEFT JOIN identifier_values v ON v.key = i.key
   WHERE i.key = $1
   ORDER BY v.idx`;

@Injectable()
export class IdentifiersRepository {
  constructor(@Inject(IDENTIFIER_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** The record and the owner of its prefix in one round trip (the uncached resolution path). */
  async findResolvable(key: string): Promise<ResolvableRecord | undefined> {
    const rows = await preparedQuery<ResolvableRow>(this.dataSource, 'identifier-resolvable', RESOLVABLE_SQL, [key]);
    if (rows.length === 0) return undefined;
    const [first] = rows;
    const owner = ownerRef(first);
    const values = rows
      .filter((r) => r.idx !== null)
      .map((r) =>
        // A secret key never leaves the repository on the read path: caches and answers hold the marker.
        maskedSecretKey({
          idx: r.idx as number,
          type: r.type,
          format: r.format,
          value: r.value,
          ttl: r.ttl,
          access: r.access,
          grantees: r.grantees,
          updatedAt: r.updated_at.toISOString(),
        }),
      );
    return { handle: first.handle, version: first.version, owner, values };
  }

  /**
   * The value at `idx` of the identifier `key` and the owner of its prefix: what a handle
   * identity authenticates against (the only read that returns a stored secret key's hash).
   */
  async secretKeyOf(
    key: string,
    idx: number,
  ): Promise<
    { type: string; format: string; value: unknown; sealedSecret: string | null; owner?: TenantRef; ownerSuspended: boolean } | undefined
  > {
    const rows: (Pick<IdentifierValueEntity, 'type' | 'format' | 'value'> & { sealed_secret: string | null } & Pick<
        PrefixEntity,
        'tenantId' | 'tenantKind' | 'tenantPath'
      > & { owner_suspended: boolean })[] = await preparedQuery(
      this.dataSource,
      'identifier-secret-key',
      `SELECT v.type, v.format, v.value, v.sealed_secret, ${PREFIX_OWNER_COLUMNS},
              EXISTS (SELECT 1 FROM suspended_tenants s WHERE s.tenant_id = ANY (p.tenant_path)) AS owner_suspended
           FROM identifiers i
           JOIN identifier_values v ON v.key = i.key AND v.idx = $2
           LEFT JOIN prefixes p ON p.prefix = i.prefix
          WHERE i.key = $1`,
      [key, idx],
    );
    const [row] = rows;
    return row
      ? {
          type: row.type,
          format: row.format,
          value: row.value,
          sealedSecret: row.sealed_secret,
          owner: ownerRef(row),
          ownerSuspended: row.owner_suspended,
        }
      : undefined;
  }

  /** One value of an identifier (a group an HS_ADMIN names), in the caller's transaction. */
  async valueAt(
    manager: EntityManager,
    key: string,
    idx: number,
  ): Promise<Pick<IdentifierValueEntity, 'idx' | 'type' | 'format' | 'value'> | undefined> {
    const rows: Pick<IdentifierValueEntity, 'idx' | 'type' | 'format' | 'value'>[] = await manager.query(
      'SELECT idx, type, format, value FROM identifier_values WHERE key = $1 AND idx = $2',
      [key, idx],
    );
    return rows[0];
  }

  findForUpdate(manager: EntityManager, key: string): Promise<IdentifierEntity | null> {
    return manager
      .getRepository(IdentifierEntity)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where('i.key = :key', { key })
      .getOne();
  }

  async insert(manager: EntityManager, identifier: Omit<IdentifierEntity, 'createdAt' | 'updatedAt'>): Promise<void> {
    await this.lockPrefixes(manager, [identifier.prefix]);
    await manager.getRepository(IdentifierEntity).insert(identifier);
  }

  /**
   * Holds the prefixes' rows FOR KEY SHARE until the transaction ends, once per prefix: what the
   * foreign key on identifiers.prefix checked per row (IdentifiersWithoutPrefixKey migration).
   */
  private async lockPrefixes(manager: EntityManager, prefixes: string[]): Promise<void> {
    const wanted = [...new Set(prefixes)];
    const rows: unknown[] = await manager.query('SELECT 1 FROM prefixes WHERE prefix = ANY($1::text[]) FOR KEY SHARE', [wanted]);
    if (rows.length !== wanted.length) throw new Error(`an identifier's prefix is not hosted here (${wanted.join(', ')})`);
  }

  async bumpVersion(manager: EntityManager, key: string, version: number, template?: { kind: string; version: number }): Promise<void> {
    await manager.query(
      'UPDATE identifiers SET version = $2, updated_at = now(), template_kind = coalesce($3, template_kind), template_version = coalesce($4, template_version) WHERE key = $1',
      [key, version, template?.kind ?? null, template?.version ?? null],
    );
  }

  /** Replaces every value of an identifier. */
  async replaceValues(manager: EntityManager, key: string, values: Omit<IdentifierValueEntity, 'key' | 'updatedAt'>[]): Promise<void> {
    await this.clearValues(manager, [key]);
    await this.insertValues(
      manager,
      values.map((v) => ({ ...v, key })),
    );
  }

  /** The stored values of an identifier locked by findForUpdate in this transaction, in index order. */
  valuesOf(manager: EntityManager, key: string): Promise<Omit<IdentifierValueEntity, 'key' | 'updatedAt'>[]> {
    return manager.query(
      'SELECT idx, type, format, value, ttl, access, grantees, sealed_secret AS "sealedSecret" FROM identifier_values WHERE key = $1 ORDER BY idx',
      [key],
    );
  }

  /** Removes the values at these indexes (a per-index PUT or DELETE); the others keep their rows and timestamps. */
  async deleteValues(manager: EntityManager, key: string, indexes: readonly number[]): Promise<void> {
    if (indexes.length > 0) await manager.query('DELETE FROM identifier_values WHERE key = $1 AND idx = ANY($2::int[])', [key, indexes]);
  }

  /**
   * Many identifiers in one statement: the columns travel as arrays (no parameter limit, no
   * JSON to parse), rows whose key exists already are skipped. Returns the keys inserted.
   */
  async insertMany(
    manager: EntityManager,
    rows: { key: string; handle: string; prefix: string; tenantId: string; templateKind: string | null; templateVersion: number | null }[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    // Sent together: the insert does not wait for the lock's round trip (a missing prefix rolls both back).
    const [result] = await Promise.all([
      manager.query<{ key: string }[]>(
        `INSERT INTO identifiers (key, handle, prefix, tenant_id, template_kind, template_version)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::int[])
         ON CONFLICT (key) DO NOTHING RETURNING key`,
        [
          rows.map((r) => r.key),
          rows.map((r) => r.handle),
          rows.map((r) => r.prefix),
          rows.map((r) => r.tenantId),
          rows.map((r) => r.templateKind),
          rows.map((r) => r.templateVersion),
        ],
      ),
      this.lockPrefixes(
        manager,
        rows.map((r) => r.prefix),
      ),
    ]);
    return new Set(result.map((r) => r.key));
  }

  /** Removes every value stored under these keys (replacing or deleting an identifier's values). */
  async clearValues(manager: EntityManager, keys: string[]): Promise<void> {
    if (keys.length > 0) await manager.query('DELETE FROM identifier_values WHERE key = ANY($1::text[])', [keys]);
  }

  /** Values of identifiers written in this transaction, streamed with COPY (a batch brings 10,000 and more). */
  async insertValues(manager: EntityManager, rows: Omit<IdentifierValueEntity, 'updatedAt'>[]): Promise<void> {
    if (rows.length === 0) return;
    await copyRows(
      manager,
      'identifier_values',
      ['key', 'idx', 'type', 'format', 'value', 'ttl', 'access', 'grantees', 'sealed_secret'],
      rows.map((v) => [v.key, v.idx, v.type, v.format, { json: v.value }, v.ttl, v.access, v.grantees, v.sealedSecret ?? null]),
    );
  }

  /** Identifiers under one prefix, in key order, keyset-paginated. */
  listByPrefix(prefix: string, limit: number, afterKey?: string): Promise<IdentifierEntity[]> {
    const qb = this.dataSource
      .getRepository(IdentifierEntity)
      .createQueryBuilder('i')
      .where('i.prefix = :prefix', { prefix })
      .orderBy('i.key', 'ASC')
      .limit(limit);
    if (afterKey !== undefined) qb.andWhere('i.key > :afterKey', { afterKey });
    return qb.getMany();
  }

  /** Identifiers with a string value of this type and content (e.g. a serial number), in key order. */
  reverseLookup(
    type: string,
    value: string,
    limit: number,
    afterKey?: string,
  ): Promise<
    ({ key: string; handle: string } & Pick<IdentifierValueEntity, 'type' | 'access' | 'grantees'> &
      Pick<PrefixEntity, 'tenantId' | 'tenantKind' | 'tenantPath'>)[]
  > {
    return this.dataSource.query(
      `SELECT i.key, i.handle, v.type, v.access, v.grantees, ${PREFIX_OWNER_COLUMNS}
         FROM identifier_values v JOIN identifiers i ON i.key = v.key JOIN prefixes p ON p.prefix = i.prefix
        WHERE v.format = 'string' AND v.type = $1 AND md5(v.value #>> '{}') = md5($2) AND v.value #>> '{}' = $2
          AND ($3::text IS NULL OR i.key > $3)
        ORDER BY i.key
        LIMIT $4`,
      [type, value, afterKey ?? null, limit],
    );
  }

  /** Removes an identifier and its values (no cascade: see the ValuesWithoutForeignKey migration). */
  async delete(manager: EntityManager, key: string): Promise<void> {
    await this.clearValues(manager, [key]);
    await manager.query('DELETE FROM identifiers WHERE key = $1', [key]);
  }
}
