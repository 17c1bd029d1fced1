import { Injectable, Inject } from '@nestjs/common';
import { Principal } from '@iip/platform-auth';
import { ParsedHandle, isHandleSyntaxError, parseHandle } from '../handles/handle-syntax';
import { HandleResponseCode, IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { IdentifierOutbox } from '../messaging/identifier-outbox';
import { PrefixEntity } from '../prefixes/prefix.entity';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from '../prefixes/prefixes.service';
import { RecordCache } from '../resolution/record-cache';
import { TemplateEntity } from '../templates/template.entity';
import { TemplatesService } from '../templates/templates.service';
import { BatchItemResult } from './dto/batch.dto';
import { BatchItemInput } from './dto/handle-value.schema';
import { IdempotencyService, WriteOutcome, requestHash } from './idempotency.service';
import { IdentifiersRepository } from './identifiers.repository';
import { authoriseReservedValues } from './reserved-values';
import { NewValue, buildValues } from './values';

/**
 * Registers up to 5,000 identifiers in one transaction with a result per item: every item is
 * checked first (syntax, ownership once per prefix, values), then the valid ones go in as
 * multi-row inserts; one that exists already is reported (101) and left alone.
 */
@Injectable()
export class BatchRegistrationService {
  constructor(
    private readonly identifiers: IdentifiersRepository,
    private readonly prefixes: PrefixesService,
    private readonly outbox: IdentifierOutbox,
    private readonly idempotency: IdempotencyService,
    private readonly cache: RecordCache,
    private readonly templates: TemplatesService,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  async register(actor: Principal, items: BatchItemInput[], idempotencyKey?: string): Promise<WriteOutcome & { replayed: boolean }> {
    const results: BatchItemResult[] = items.map((i) => ({ handle: i.handle, status: 'failed', responseCode: HandleResponseCode.ERROR }));
    const accepted: {
      index: number;
      handle: ParsedHandle;
      prefix: PrefixEntity;
      values: NewValue[];
      template?: { kind: string; version: number };
    }[] = [];
    const templates = new Map<string, Promise<TemplateEntity>>();
    const prefixChecks = new Map<string, Promise<PrefixEntity | IdentifierError>>();
    /** Prefixes that admin values of the batch name, asked once each. */
    const referenced = new Map<string, Promise<boolean>>();
    const seen = new Set<string>();
    for (const [index, item] of items.entries()) {
      try {
        const handle = parseHandle(item.handle);
        if (isHandleSyntaxError(handle)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, handle.message);
        if (seen.has(handle.key))
          throw new IdentifierError(IdentifierErrorCode.HANDLE_ALREADY_EXISTS, `${handle.handle} appears twice in this batch`);
        seen.add(handle.key);
        let check = prefixChecks.get(handle.prefix);
        if (!check) {
          check = this.prefixes.writablePrefix(actor, handle.prefix).catch((err: unknown) => {
            if (err instanceof IdentifierError) return err;
            throw err;
          });
          prefixChecks.set(handle.prefix, check);
        }
        const prefix = await check;
        if (prefix instanceof IdentifierError) throw prefix;
        const values = buildValues(item.values, prefix, this.node.defaultTtl);
        const secret = values.find((v) => v.type === 'HS_SECKEY');
        if (secret) {
          // Each is hashed slowly on purpose (~50 ms): a batch of thousands would hold its transaction for minutes.
          throw new IdentifierError(
            IdentifierErrorCode.INVALID_VALUE,
            `Value ${secret.idx}: register HS_SECKEY values with PUT /api/handles/{handle}, not in a batch`,
          );
        }
        await authoriseReservedValues(actor, item.values, (p) => {
          let managed = referenced.get(p);
          if (!managed) referenced.set(p, (managed = this.prefixes.manages(actor, p)));
          return managed;
        });
        let template: TemplateEntity | undefined;
        if (item.template) {
          const ref = `${item.template.kind}@${item.template.version ?? 'latest'}`;
          let pending = templates.get(ref);
          if (!pending) {
            pending = this.templates.resolve(item.template.kind, item.template.version);
            pending.catch(() => undefined); // awaited below; keep an early failure from being reported as unhandled
            templates.set(ref, pending);
          }
          template = await pending;
          this.templates.validate(template, item.values);
        }
        accepted.push({
          index,
          handle,
          prefix,
          values,
          template: template ? { kind: template.kind, version: template.version } : undefined,
        });
      } catch (err) {
        if (!(err instanceof IdentifierError)) throw err;
        results[index] = {
          handle: item.handle,
          status: 'failed',
          responseCode: err.handleCode(),
          error: { code: err.code, message: err.message },
        };
      }
    }

    const hash = idempotencyKey ? requestHash('BATCH', items) : '';
    const outcome = await this.idempotency.run(actor.tenant.id, idempotencyKey, hash, async (manager) => {
      const insertion = this.identifiers.insertMany(
        manager,
        accepted.map((a) => ({
          key: a.handle.key,
          handle: a.handle.handle,
          prefix: a.prefix.prefix,
          tenantId: a.prefix.tenantId ?? actor.tenant.id,
          templateKind: a.template?.kind ?? null,
          templateVersion: a.template?.version ?? null,
        })),
      );
      // The values' and events' rows are made while PostgreSQL inserts the identifiers (all of them, usually, are new).
      await new Promise(setImmediate);
      const rowsOf = (of: typeof accepted) => ({
        values: of.flatMap((a) => a.values.map((v) => ({ ...v, key: a.handle.key }))),
        events: of.map((a) => ({
          handle: a.handle.handle,
          key: a.handle.key,
          prefix: a.prefix.prefix,
          tenantId: a.prefix.tenantId ?? actor.tenant.id,
          version: 1,
          change: 'registered' as const,
        })),
      });
      let rows = rowsOf(accepted);
      const inserted = await insertion;
      if (inserted.size < accepted.length) rows = rowsOf(accepted.filter((a) => inserted.has(a.handle.key)));
      await this.identifiers.insertValues(manager, rows.values);
      await this.outbox.identifiersRegistered(manager, rows.events);
      for (const a of accepted) {
        results[a.index] = inserted.has(a.handle.key)
          ? { handle: a.handle.handle, status: 'created', responseCode: HandleResponseCode.SUCCESS }
          : {
              handle: a.handle.handle,
              status: 'failed',
              responseCode: HandleResponseCode.HANDLE_ALREADY_EXISTS,
              error: { code: IdentifierErrorCode.HANDLE_ALREADY_EXISTS, message: `${a.handle.handle} already exists` },
            };
      }
      const createdCount = results.filter((r) => r.status === 'created').length;
      return {
        status: 200,
        body: { responseCode: HandleResponseCode.SUCCESS, created: createdCount, failed: results.length - createdCount, results },
      };
    });
    // A not-found answer may be cached for these keys.
    await this.cache.invalidate(accepted.map((a) => a.handle.key));
    return outcome;
  }
}
