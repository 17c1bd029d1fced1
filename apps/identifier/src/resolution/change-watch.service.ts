import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Observable, concatMap, filter, from, map, mergeMap } from 'rxjs';
import { IdentifierChangedData } from '@iip/contracts';
import { Principal, TenantRef, TokenVerifier, canManage } from '@iip/platform-auth';
import { isHandleSyntaxError, isUnderPrefix, parsePrefix } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { PrefixesService } from '../prefixes/prefixes.service';
import { ChangeFeedListener } from './change-feed.listener';

/** How long one stream trusts the owner it read for a prefix: long enough for a batch's burst, short enough to follow a move. */
const OWNER_TTL_MS = 1_000;

export type IdentifierChange = IdentifierChangedData & { time: string };

/**
 * Change streams (gRPC WatchChanges): the changes under a prefix, each one only if the subscriber
 * may see it. Watching needs the prefix itself to be manageable; each change must then be under a
 * hosted prefix whose owner the subscriber manages too — a nested prefix allocated to another
 * tenant inside the watched one stays that tenant's.
 */
@Injectable()
export class ChangeWatchService {
  constructor(
    private readonly prefixes: PrefixesService,
    private readonly feed: ChangeFeedListener,
    private readonly verifier: TokenVerifier,
  ) {}

  watch(subscriber: Principal, requested: string): Observable<IdentifierChange> {
    const prefix = parsePrefix(requested);
    if (isHandleSyntaxError(prefix)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, prefix.message);
    // Owners as this stream last read them, per change prefix (the routing cache is not an ownership record).
    const owners = new LRUCache<string, { owner?: TenantRef }>({ max: 1_000, ttl: OWNER_TTL_MS });
    const maySee = async (change: IdentifierChange): Promise<boolean> => {
      // A stream lives longer than the token checked when it opened: a revoked client, a
      // suspended tenant or an expired token ends it, before another change is sent.
      const invalid = this.verifier.noLongerValid(subscriber);
      if (invalid) throw new IdentifierError(IdentifierErrorCode.AUTHENTICATION_NEEDED, `The stream has ended: ${invalid}`);
      let known = owners.get(change.prefix);
      if (!known) {
        known = { owner: await this.prefixes.hostedOwner(change.prefix) };
        owners.set(change.prefix, known);
      }
      return known.owner !== undefined && canManage(subscriber.tenant, known.owner);
    };
    return from(this.prefixes.writablePrefix(subscriber, prefix)).pipe(
      mergeMap(() => this.feed.changes),
      filter((c) => isUnderPrefix(c.prefix, prefix)),
      // In order, one lookup at a time: a burst under one prefix reads its owner once.
      concatMap((c) => from(maySee(c)).pipe(map((visible) => (visible ? c : undefined)))),
      filter((c): c is IdentifierChange => c !== undefined),
    );
  }
}
