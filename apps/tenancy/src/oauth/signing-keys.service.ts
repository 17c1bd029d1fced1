import { Inject, Injectable } from '@nestjs/common';
import { SecretBox, SecretBoxMismatchError } from '@iip/platform-auth';
import {
  JWK,
  JWTVerifyGetKey,
  KeyLike,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
} from 'jose';
import { DataSource, EntityManager } from 'typeorm';
import { TENANCY_DATA_SOURCE } from '../tenants/tenants.repository';
import { SigningKeyEntity } from './signing-key.entity';

export const SIGNING_ALG = 'ES256';
export const KEY_SETTINGS = Symbol('KEY_SETTINGS');

export interface KeySettings {
  encryptionSecret: string;
  rotationHours: number;
  tokenTtlSeconds: number;
}

interface LoadedKey {
  kid: string;
  status: 'next' | 'active' | 'retired';
  createdAt: Date;
  retiredAt: Date | null;
  publicJwk: JWK;
  publicKey: KeyLike;
  privateKey?: KeyLike;
}

/**
 * Token signing keys: ES256 pairs stored in PostgreSQL, private halves encrypted with the
 * key-encryption secret. Instances share keys through the database.
 *
 * The JWKS always publishes three kinds of key: the active one that signs; the next one,
 * published a whole rotation period before it signs anything, so verifiers that cached the
 * JWKS already know it when rotation promotes it; and retired ones, until every token they
 * signed has expired.
 */
@Injectable()
export class SigningKeysService {
  private keys = new Map<string, LoadedKey>();
  private lastLoad = 0;
  private readonly box: SecretBox;

  constructor(
    @Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(KEY_SETTINGS) private readonly settings: KeySettings,
  ) {
    this.box = new SecretBox(settings.encryptionSecret);
  }

  private get repo() {
    return this.dataSource.getRepository(SigningKeyEntity);
  }

  /** Makes sure an active and a next key exist and the active one is not older than the rotation period. */
  async ensureActiveKey(): Promise<void> {
    await this.reload();
    const active = this.keyWithStatus('active');
    const maxAgeMs = this.settings.rotationHours * 3600_000;
    if (!active || Date.now() - active.createdAt.getTime() > maxAgeMs) {
      await this.rotate();
    } else if (!this.keyWithStatus('next')) {
      await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['iip-tenancy:signing-key-rotation']);
        const [{ count }]: { count: number }[] = await manager.query(
          `SELECT count(*)::int AS count FROM signing_keys WHERE status = 'next'`,
        );
        if (count === 0) await this.insertNewKey(manager, 'next');
      });
      await this.reload();
    }
  }

  /** Promotes the next key to active (creating one if none), retires the old one, prepares a new next. Returns the active key id. */
  async rotate(): Promise<string> {
    const kid = await this.dataSource.transaction(async (manager) => {
      // Serialises concurrent rotations from several instances.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['iip-tenancy:signing-key-rotation']);
      await manager.query(`UPDATE signing_keys SET status = 'retired', retired_at = now() WHERE status = 'active'`);
      // TypeORM answers an UPDATE with [rows, rowCount].
      const [promoted]: [{ kid: string }[], number] = await manager.query(
        `UPDATE signing_keys SET status = 'active' WHERE status = 'next' RETURNING kid`,
      );
      const activeKid = promoted[0]?.kid ?? (await this.insertNewKey(manager, 'active'));
      await this.insertNewKey(manager, 'next');
      // Keys retired long enough ago that no token they signed can still be valid.
      await manager.query(`DELETE FROM signing_keys WHERE status = 'retired' AND retired_at < now() - make_interval(secs => $1)`, [
        this.settings.tokenTtlSeconds * 2,
      ]);
      return activeKid;
    });
    await this.reload();
    return kid;
  }

  private async insertNewKey(manager: EntityManager, status: 'active' | 'next'): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    await manager.getRepository(SigningKeyEntity).insert({
      kid,
      alg: SIGNING_ALG,
      publicJwk: { ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' },
      privateKeyEnc: this.box.seal(await exportPKCS8(privateKey)),
      status,
      retiredAt: null,
    });
    return kid;
  }

  async signingKey(): Promise<{ kid: string; key: KeyLike }> {
    if (Date.now() - this.lastLoad > 60_000 || !this.activeKey()) await this.reload();
    const active = this.activeKey();
    if (!active?.privateKey) throw new Error('No active signing key');
    return { kid: active.kid, key: active.privateKey };
  }

  /** The public keys to publish: next, active and recently retired. */
  async jwks(): Promise<{ keys: JWK[] }> {
    if (Date.now() - this.lastLoad > 30_000) await this.reload();
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  /** Key resolver for verifying tokens inside tenancy itself, without an HTTP round trip. */
  keyResolver(): JWTVerifyGetKey {
    return async (header) => {
      const kid = header.kid;
      if (!kid) throw new Error('token has no kid');
      let key = this.keys.get(kid);
      if (!key && Date.now() - this.lastLoad > 1_000) {
        await this.reload();
        key = this.keys.get(kid);
      }
      if (!key) throw Object.assign(new Error('no key with this kid'), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
      return key.publicKey;
    };
  }

  private activeKey(): LoadedKey | undefined {
    return this.keyWithStatus('active');
  }

  private keyWithStatus(status: LoadedKey['status']): LoadedKey | undefined {
    return [...this.keys.values()].find((k) => k.status === status);
  }

  private async reload(): Promise<void> {
    const rows = await this.repo.find();
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const existing = this.keys.get(row.kid);
      next.set(row.kid, {
        kid: row.kid,
        status: row.status,
        createdAt: row.createdAt,
        retiredAt: row.retiredAt,
        publicJwk: row.publicJwk,
        publicKey: existing?.publicKey ?? ((await importJWK(row.publicJwk, SIGNING_ALG)) as KeyLike),
        privateKey:
          row.status === 'active' ? (existing?.privateKey ?? (await importPKCS8(this.opened(row.privateKeyEnc), SIGNING_ALG))) : undefined,
      });
    }
    this.keys = next;
    this.lastLoad = Date.now();
  }

  private opened(sealed: string): string {
    try {
      return this.box.open(sealed).toString('utf8');
    } catch (err) {
      if (err instanceof SecretBoxMismatchError) {
        throw new Error('Cannot decrypt the signing key: TENANCY_KEY_ENCRYPTION_SECRET differs from the one that encrypted it');
      }
      throw err;
    }
  }
}
