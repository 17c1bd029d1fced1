import { Injectable } from '@nestjs/common';
import { Principal } from '@iip/platform-auth';
import { DEFAULT_PAGE_SIZE, Page, pageOf, readCursor } from '@iip/platform-http';
import { isHandleSyntaxError, parsePrefix } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { ownerRef } from '../prefixes/prefix.entity';
import { PrefixesService } from '../prefixes/prefixes.service';
import { mayRead } from '../resolution/resolution.service';
import { IdentifiersRepository } from './identifiers.repository';

export interface IdentifierSummary {
  handle: string;
  version?: number;
  createdAt?: string;
  updatedAt?: string;
}

function afterKeyFrom(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  return readCursor(cursor, ['key'])[0] as string;
}

/** Listing by prefix (for the prefix's owner) and reverse lookup by value (within what the caller may read). */
@Injectable()
export class IdentifierQueriesService {
  constructor(
    private readonly identifiers: IdentifiersRepository,
    private readonly prefixes: PrefixesService,
  ) {}

  async listByPrefix(actor: Principal, requested: string, limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<Page<IdentifierSummary>> {
    const prefix = parsePrefix(requested);
    if (isHandleSyntaxError(prefix)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, prefix.message);
    await this.prefixes.writablePrefix(actor, prefix);
    const page = pageOf(await this.identifiers.listByPrefix(prefix, limit + 1, afterKeyFrom(cursor)), limit, (r) => [r.key]);
    return {
      items: page.rows.map((r) => ({
        handle: r.handle,
        version: r.version,
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
      })),
      nextCursor: page.nextCursor,
    };
  }

  async reverseLookup(
    caller: Principal | undefined,
    type: string,
    value: string,
    limit = DEFAULT_PAGE_SIZE,
    cursor?: string,
  ): Promise<Page<IdentifierSummary>> {
    const page = pageOf(await this.identifiers.reverseLookup(type, value, limit + 1, afterKeyFrom(cursor)), limit, (r) => [r.key]);
    const items = page.rows.filter((row) => mayRead(row, ownerRef(row), caller)).map((row) => ({ handle: row.handle }));
    return { items, nextCursor: page.nextCursor };
  }
}
