import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { Principal, hashSecret, isSecretHash } from '@iip/platform-auth';
import { ParsedHandle, isHandleSyntaxError, parseHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { IdentifierOutbox } from '../messaging/identifier-outbox';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from '../prefixes/prefixes.service';
import { ADMIN_INDEX } from './dto/handle-value.dto';
import { HandleValueInput } from './dto/handle-value.schema';
import { RecordCache } from '../resolution/record-cache';
import { IdempotencyService, WriteOutcome, requestHash } from './idempotency.service';
import { TemplatesService } from '../templates/templates.service';
import { IdentifierEntity } from './identifier.entity';
import { IdentifiersRepository } from './identifiers.repository';
import { authoriseReservedValues } from './reserved-values';
import {
  ListedIndexes,
  changedIndexes,
  checkExisting,
  checkNotOverwriting,
  mergedValues,
  mintedHandleName,
  removableIndexes,
  storedAsInput,
} from './value-changes';
import { NewValue, buildValues } from './values';
import { AdminPermission, administers, changePermissions, permissionNames, sealSecretKeys } from '../identities/handle-identity';
import { IdentifierValueEntity } from './identifier.entity';

export interface WriteOptions {
  /** The template the values must follow; on a replace without one, the identifier's own. */
  template?: { kind: string; version?: number };
  /** The version the caller read (If-Match); a stale one is a conflict. */
  expectedVersion?: number;
  /** false: refuse to overwrite an existing identifier (Handle API `overwrite=false`). */
  overwrite: boolean;
  /** true: only replace; an identifier that does not exist is not created (gRPC Update). */
  mustExist?: boolean;
  /** Another service's event this write carries out; its change event names it. */
  origin?: { source: string; id: string };
}

/** A PUT of single values (Handle API `?index=`): the rest of the record stays as it is. */
export interface ValuesWriteOptions {
  indexes: ListedIndexes;
  /** false: refuse when a listed index already holds a value (Handle code 201). */
  overwrite: boolean;
  /** true: only replace; a listed index that holds no value is refused (Handle code 200; native MODIFY_VALUE). */
  mustExist?: boolean;
  expectedVersion?: number;
}

export interface WriteResult {
  created: boolean;
  version: number;
}

/** Registering, replacing and deleting identifiers under the caller's prefixes. */
@Injectable()
export class IdentifiersService {
  constructor(
    private readonly identifiers: IdentifiersRepository,
    private readonly prefixes: PrefixesService,
    private readonly outbox: IdentifierOutbox,
    private readonly idempotency: IdempotencyService,
    private readonly cache: RecordCache,
    private readonly templates: TemplatesService,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  /** PUT of a whole record: idempotent on `idempotencyKey`, cache dropped once committed. */
  async putRecord(
    actor: Principal,
    handle: ParsedHandle,
    values: HandleValueInput[],
    options: WriteOptions,
    idempotencyKey?: string,
  ): Promise<WriteOutcome & { replayed: boolean }> {
    const hash = requestHash('PUT', handle.key, values, options);
    const outcome = await this.idempotency.run(actor.tenant.id, idempotencyKey, hash, async (manager) => {
      const r = await this.put(manager, actor, handle, values, options);
      return { status: r.created ? 201 : 200, body: { responseCode: 1, handle: handle.handle, version: r.version } };
    });
    await this.cache.invalidate([handle.key]);
    return outcome;
  }

  async deleteRecord(
    actor: Principal,
    handle: ParsedHandle,
    expectedVersion?: number,
    idempotencyKey?: string,
  ): Promise<WriteOutcome & { replayed: boolean }> {
    const hash = requestHash('DELETE', handle.key, expectedVersion);
    const outcome = await this.idempotency.run(actor.tenant.id, idempotencyKey, hash, async (manager) => {
      await this.delete(manager, actor, handle, expectedVersion);
      return { status: 200, body: { responseCode: 1, handle: handle.handle } };
    });
    await this.cache.invalidate([handle.key]);
    return outcome;
  }

  /**
   * `PUT …?mintNewSuffix=true`: registers a new identifier whose suffix the server picks, appended
   * to `base` (`88.100.1000/`). A retry with the same Idempotency-Key gets the handle minted first.
   */
  async mintRecord(
    actor: Principal,
    base: string,
    values: HandleValueInput[],
    options: Omit<WriteOptions, 'overwrite' | 'mustExist'>,
    idempotencyKey?: string,
  ): Promise<WriteOutcome & { replayed: boolean }> {
    const name = mintedHandleName(base, '');
    const hash = requestHash('PUT', 'mint', name, values, options);
    const outcome = await this.idempotency.run(actor.tenant.id, idempotencyKey, hash, async (manager) => {
      const handle = parsedOrThrow(mintedHandleName(base, randomUUID()));
      const r = await this.put(manager, actor, handle, values, { ...options, overwrite: false });
      return { status: 201, body: { responseCode: 1, handle: handle.handle, version: r.version } };
    });
    // A not-found answer for the new name may sit in this instance's memory.
    await this.cache.invalidate([parsedOrThrow(String(outcome.body.handle)).key]);
    return outcome;
  }

  /** PUT of single values (`?index=`): adds or replaces those values, keeps the others. */
  async putValues(
    actor: Principal,
    handle: ParsedHandle,
    values: HandleValueInput[],
    options: ValuesWriteOptions,
    idempotencyKey?: string,
  ): Promise<WriteOutcome & { replayed: boolean }> {
    const hash = requestHash('PUT', 'values', handle.key, values, options);
    const outcome = await this.idempotency.run(actor.tenant.id, idempotencyKey, hash, async (manager) => {
      const version = await this.changeValues(manager, actor, handle, values, options);
      return { status: 200, body: { responseCode: 1, handle: handle.handle, version } };
    });
    await this.cache.invalidate([handle.key]);
    return outcome;
  }

  /** DELETE of single values (`?index=`): the handle stays with its other values. */
  async deleteValues(
    actor: Principal,
    handle: ParsedHandle,
    indexes: readonly number[],
    expectedVersion?: number,
    idempotencyKey?: string,
  ): Promise<WriteOutcome & { replayed: boolean }> {
    const hash = requestHash(
      'DELETE',
      'values',
      handle.key,
      [...new Set(indexes)].sort((a, b) => a - b),
      expectedVersion,
    );
    const outcome = await this.idempotency.run(actor.tenant.id, idempotencyKey, hash, async (manager) => {
      const version = await this.removeValues(manager, actor, handle, indexes, expectedVersion);
      return { status: 200, body: { responseCode: 1, handle: handle.handle, version } };
    });
    await this.cache.invalidate([handle.key]);
    return outcome;
  }

  /** Adds or replaces the listed values of an existing identifier, in the caller's transaction; returns the new version. */
  async changeValues(
    manager: EntityManager,
    actor: Principal,
    handle: ParsedHandle,
    input: HandleValueInput[],
    options: ValuesWriteOptions,
  ): Promise<number> {
    const indexes = changedIndexes(options.indexes, input);
    const prefix = await this.prefixes.writablePrefix(actor, handle.prefix);
    // The server's HS_ADMIN at 100 stays; what a client sends there is dropped, as on a whole PUT.
    const changed = buildValues(input, prefix, this.node.defaultTtl).filter((v) => v.idx !== ADMIN_INDEX);
    await authoriseReservedValues(actor, input, (p) => this.prefixes.manages(actor, p));
    const existing = await this.existingForChange(manager, handle);
    this.checkVersion(existing.version, options.expectedVersion, handle);
    const stored = await this.identifiers.valuesOf(manager, handle.key);
    await this.authoriseIdentity(manager, actor, handle, stored, () =>
      changePermissions(
        stored.filter((v) => indexes.includes(v.idx)),
        changed,
      ),
    );
    if (!options.overwrite) checkNotOverwriting(handle.handle, indexes, new Set(stored.map((v) => v.idx)));
    if (options.mustExist) checkExisting(handle.handle, indexes, new Set(stored.map((v) => v.idx)));
    await this.validateAgainstTemplate(
      existing,
      mergedValues(
        stored.map(storedAsInput),
        input.filter((v) => v.index !== ADMIN_INDEX),
      ),
    );
    // A plaintext secret key an older release stored is hashed with this first write.
    const unsealed = stored.filter((v) => v.type === 'HS_SECKEY' && !changed.some((c) => c.idx === v.idx) && !isSecretHash(v.value));
    const written = await sealSecretKeys([...changed, ...unsealed], stored, this.secretKeys);
    await this.identifiers.deleteValues(
      manager,
      handle.key,
      written.map((v) => v.idx),
    );
    await this.identifiers.insertValues(
      manager,
      written.map((v) => ({ ...v, key: handle.key })),
    );
    return this.recordUpdated(manager, existing, prefix.prefix, handle);
  }

  /** Removes the listed values of an existing identifier, in the caller's transaction; returns the new version. */
  async removeValues(
    manager: EntityManager,
    actor: Principal,
    handle: ParsedHandle,
    listed: readonly number[],
    expectedVersion?: number,
  ): Promise<number> {
    const prefix = await this.prefixes.writablePrefix(actor, handle.prefix);
    const existing = await this.existingForChange(manager, handle);
    this.checkVersion(existing.version, expectedVersion, handle);
    const stored = await this.identifiers.valuesOf(manager, handle.key);
    await this.authoriseIdentity(manager, actor, handle, stored, () =>
      changePermissions(
        stored.filter((v) => listed.includes(v.idx)),
        [],
      ),
    );
    const indexes = removableIndexes(handle.handle, listed, new Set(stored.map((v) => v.idx)));
    await this.validateAgainstTemplate(existing, stored.filter((v) => !indexes.includes(v.idx)).map(storedAsInput));
    await this.identifiers.deleteValues(manager, handle.key, indexes);
    return this.recordUpdated(manager, existing, prefix.prefix, handle);
  }

  private async existingForChange(manager: EntityManager, handle: ParsedHandle): Promise<IdentifierEntity> {
    const existing = await this.identifiers.findForUpdate(manager, handle.key);
    if (!existing) {
      throw new IdentifierError(
        IdentifierErrorCode.HANDLE_NOT_FOUND,
        `${handle.handle} does not exist: index= changes values of an existing handle; PUT without index= creates it`,
      );
    }
    return existing;
  }

  /** A partial change leaves a record that must still follow the identifier's template. */
  private async validateAgainstTemplate(existing: IdentifierEntity, values: HandleValueInput[]): Promise<void> {
    if (!existing.templateKind) return;
    const template = await this.templates.resolve(existing.templateKind, existing.templateVersion ?? undefined);
    this.templates.validate(template, values);
  }

  /** The version bump and change-feed event of a partial change, as for a whole replace. */
  private async recordUpdated(manager: EntityManager, existing: IdentifierEntity, prefix: string, handle: ParsedHandle): Promise<number> {
    const version = existing.version + 1;
    await this.identifiers.bumpVersion(manager, handle.key, version);
    await this.outbox.identifierChanged(manager, {
      handle: existing.handle,
      key: handle.key,
      prefix,
      tenantId: existing.tenantId,
      version,
      change: 'updated',
    });
    return version;
  }

  /** Creates the identifier or replaces all its values, in the caller's transaction. */
  async put(
    manager: EntityManager,
    actor: Principal,
    handle: ParsedHandle,
    input: HandleValueInput[],
    options: WriteOptions,
  ): Promise<WriteResult> {
    const prefix = await this.prefixes.writablePrefix(actor, handle.prefix);
    const values = buildValues(input, prefix, this.node.defaultTtl);
    await authoriseReservedValues(actor, input, (p) => this.prefixes.manages(actor, p));
    const existing = await this.identifiers.findForUpdate(manager, handle.key);
    const templateRef =
      options.template ??
      (existing?.templateKind ? { kind: existing.templateKind, version: existing.templateVersion ?? undefined } : undefined);
    const template = templateRef ? await this.templates.resolve(templateRef.kind, templateRef.version) : undefined;
    if (template) this.templates.validate(template, input);
    if (existing) {
      if (!options.overwrite) throw new IdentifierError(IdentifierErrorCode.HANDLE_ALREADY_EXISTS, `${handle.handle} already exists`);
      this.checkVersion(existing.version, options.expectedVersion, handle);
      const stored =
        actor.handleIdentity || values.some((v) => v.type === 'HS_SECKEY') ? await this.identifiers.valuesOf(manager, handle.key) : [];
      await this.authoriseIdentity(manager, actor, handle, stored, () => changePermissions(stored, values));
      const version = existing.version + 1;
      await this.identifiers.bumpVersion(manager, handle.key, version, template);
      await this.identifiers.replaceValues(manager, handle.key, await this.sealed(values, stored));
      await this.outbox.identifierChanged(manager, {
        handle: existing.handle,
        key: handle.key,
        prefix: prefix.prefix,
        tenantId: existing.tenantId,
        version,
        change: 'updated',
        ...(options.origin ? { origin: options.origin } : {}),
      });
      return { created: false, version };
    }
    if (options.mustExist) throw new IdentifierError(IdentifierErrorCode.HANDLE_NOT_FOUND, `${handle.handle} does not exist`);
    if (options.expectedVersion !== undefined) {
      throw new IdentifierError(
        IdentifierErrorCode.HANDLE_NOT_FOUND,
        `${handle.handle} does not exist, so it has no version ${options.expectedVersion}`,
      );
    }
    // The owner is the prefix's tenant, also when a group registers under its subsidiary's prefix.
    const tenantId = prefix.tenantId ?? actor.tenant.id;
    await this.identifiers.insert(manager, {
      key: handle.key,
      handle: handle.handle,
      prefix: prefix.prefix,
      tenantId,
      templateKind: template?.kind ?? null,
      templateVersion: template?.version ?? null,
      version: 1,
    });
    await this.identifiers.replaceValues(manager, handle.key, await this.sealed(values, []));
    await this.outbox.identifierChanged(manager, {
      handle: handle.handle,
      key: handle.key,
      prefix: prefix.prefix,
      tenantId,
      version: 1,
      change: 'registered',
      ...(options.origin ? { origin: options.origin } : {}),
    });
    return { created: true, version: 1 };
  }

  async delete(manager: EntityManager, actor: Principal, handle: ParsedHandle, expectedVersion?: number): Promise<void> {
    const prefix = await this.prefixes.writablePrefix(actor, handle.prefix);
    const existing = await this.identifiers.findForUpdate(manager, handle.key);
    if (!existing) throw new IdentifierError(IdentifierErrorCode.HANDLE_NOT_FOUND, `${handle.handle} does not exist`);
    this.checkVersion(existing.version, expectedVersion, handle);
    if (actor.handleIdentity) {
      await this.authoriseIdentity(manager, actor, handle, await this.identifiers.valuesOf(manager, handle.key), () => [
        AdminPermission.DELETE_HANDLE,
      ]);
    }
    await this.identifiers.delete(manager, handle.key);
    await this.outbox.identifierChanged(manager, {
      handle: existing.handle,
      key: handle.key,
      prefix: prefix.prefix,
      tenantId: existing.tenantId,
      version: existing.version + 1,
      change: 'deleted',
    });
  }

  /** The values to store, every secret key hashed (slow: only records that carry one pay for it). */
  private sealed(
    values: NewValue[],
    stored: Pick<IdentifierValueEntity, 'idx' | 'type' | 'format' | 'value' | 'sealedSecret'>[],
  ): Promise<NewValue[]> {
    return values.some((v) => v.type === 'HS_SECKEY') ? sealSecretKeys(values, stored, this.secretKeys) : Promise.resolve(values);
  }

  /** Secret keys are stored as a slow hash and a copy sealed with the node's key-encryption secret. */
  private readonly secretKeys = {
    hash: (secret: Buffer) => hashSecret(secret),
    seal: (secret: Buffer) => this.node.secretBox.seal(secret),
  };

  /**
   * A handle identity changes an existing record only when the record names it as an admin
   * (HS_ADMIN / HS_VLIST, or a group one level deep). Creating needs no admin value: the identity
   * acts for its prefix's tenant, whose prefix the write went under (checked before). A token does
   * not come here: its tenant's rights over the prefix decide.
   */
  private async authoriseIdentity(
    manager: EntityManager,
    actor: Principal,
    handle: ParsedHandle,
    stored: Pick<IdentifierValueEntity, 'idx' | 'type' | 'format' | 'value'>[],
    needed: () => number[],
  ): Promise<void> {
    const identity = actor.handleIdentity;
    if (!identity) return;
    const parsed = parsedOrThrow(identity.handle);
    const valueAt = (key: string, idx: number) => this.identifiers.valueAt(manager, key, idx);
    const who = { index: identity.index, handle: parsed.handle, key: parsed.key };
    const record = { key: handle.key, values: stored };
    if (!(await administers(who, record, valueAt))) {
      throw new IdentifierError(
        IdentifierErrorCode.NOT_HANDLE_ADMIN,
        `${identity.index}:${identity.handle} is not an administrator of ${handle.handle}: no HS_ADMIN or HS_VLIST value of it names the identity`,
      );
    }
    const permissions = needed();
    if (permissions.length > 0 && !(await administers(who, record, valueAt, permissions))) {
      throw new IdentifierError(
        IdentifierErrorCode.NOT_HANDLE_ADMIN,
        `${identity.index}:${identity.handle} administers ${handle.handle} without the permission to ${permissionNames(permissions)}`,
      );
    }
  }

  private checkVersion(current: number, expected: number | undefined, handle: ParsedHandle): void {
    if (expected !== undefined && expected !== current) {
      throw new IdentifierError(IdentifierErrorCode.VERSION_CONFLICT, `${handle.handle} is at version ${current}, not ${expected}`, {
        currentVersion: current,
      });
    }
  }
}

function parsedOrThrow(name: string): ParsedHandle {
  const parsed = parseHandle(name);
  if (isHandleSyntaxError(parsed))
    throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, parsed.message, { problem: parsed.problem });
  return parsed;
}
