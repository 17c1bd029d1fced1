import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Principal } from '@iip/platform-auth';
import { ParsedHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { IdentifierOutbox } from '../messaging/identifier-outbox';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from '../prefixes/prefixes.service';
import { HandleValueInput } from './dto/handle-value.schema';
import { RecordCache } from '../resolution/record-cache';
import { IdempotencyService, WriteOutcome, requestHash } from './idempotency.service';
import { TemplatesService } from '../templates/templates.service';
import { IdentifiersRepository } from './identifiers.repository';
import { authoriseReservedValues } from './reserved-values';
import { buildValues } from './values';

export interface WriteOptions {
  /** The template the values must follow; on a replace without one, the identifier's own. */
  template?: { kind: string; version?: number };
  /** The version the caller read (If-Match); a stale one is a conflict. */
  expectedVersion?: number;
  /** false: refuse to overwrite an existing identifier (Handle API `overwrite=false`). */
  overwrite: boolean;
  /** true: only replace; an identifier that does not exist is not created (gRPC Update). */
  mustExist?: boolean;
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
      const version = existing.version + 1;
      await this.identifiers.bumpVersion(manager, handle.key, version, template);
      await this.identifiers.replaceValues(manager, handle.key, values);
      await this.outbox.identifierChanged(manager, {
        handle: existing.handle,
        key: handle.key,
        prefix: prefix.prefix,
        tenantId: existing.tenantId,
        version,
        change: 'updated',
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
    await this.identifiers.replaceValues(manager, handle.key, values);
    await this.outbox.identifierChanged(manager, {
      handle: handle.handle,
      key: handle.key,
      prefix: prefix.prefix,
      tenantId,
      version: 1,
      change: 'registered',
    });
    return { created: true, version: 1 };
  }

  async delete(manager: EntityManager, actor: Principal, handle: ParsedHandle, expectedVersion?: number): Promise<void> {
    const prefix = await this.prefixes.writablePrefix(actor, handle.prefix);
    const existing = await this.identifiers.findForUpdate(manager, handle.key);
    if (!existing) throw new IdentifierError(IdentifierErrorCode.HANDLE_NOT_FOUND, `${handle.handle} does not exist`);
    this.checkVersion(existing.version, expectedVersion, handle);
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

  private checkVersion(current: number, expected: number | undefined, handle: ParsedHandle): void {
    if (expected !== undefined && expected !== current) {
      throw new IdentifierError(IdentifierErrorCode.VERSION_CONFLICT, `${handle.handle} is at version ${current}, not ${expected}`, {
        currentVersion: current,
      });
    }
  }
}
