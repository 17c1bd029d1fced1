import { Principal, SecretBox, sourceOf } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { AppLogger } from '@iip/platform-observability';
import { FailedAttemptLimiter } from '@iip/platform-redis';
import { ParsedHandle, isHandleSyntaxError, parseHandle, parsePrefixRecord } from '../handles/handle-syntax';
import { IdentifierError, identifierHandleCode } from '../identifier.errors';
import { handleValuesSchema } from '../identifiers/dto/handle-value.schema';
import { IdentifiersRepository } from '../identifiers/identifiers.repository';
import { IdentifiersService } from '../identifiers/identifiers.service';
import { IdentifierQueriesService } from '../identifiers/identifier-queries.service';
import { identityPrincipal, identitySubject } from '../identities/handle-identity.authenticator';
import { valueBytes } from '../identities/handle-identity';
import { PublicAnswerEncoding, ResolutionService } from '../resolution/resolution.service';
import {
  Envelope,
  OpCode,
  OpFlag,
  RawRequest,
  ResponseCode,
  WireError,
  challengeBody,
  challengeDigest,
  createdBody,
  decodeChallengeAnswer,
  decodeHandleBody,
  decodeRemoveValueBody,
  decodeRequest,
  decodeResolutionBody,
  decodeValuesBody,
  encodeEnvelope,
  encodeResponse,
  encodeSiteRecord,
  errorBody,
  handleListBody,
  resolutionBody,
} from './handle-wire';
import { NativeChallenges, handlePublicKey, publicKeySigned, secretKeySigned, signedData } from './native-auth';
import { SiteJson, inputValue, siteRecordOf, utf8Text, wireValue } from './native-values';

/** What native administration needs: the same write service and identity checks as the REST API. */
export interface NativeAdministration {
  identifiers: IdentifiersService;
  repository: IdentifiersRepository;
  challenges: NativeChallenges;
  /** The same limiter HTTP Basic identities count against. */
  failures: FailedAttemptLimiter;
  secretBox: SecretBox;
  queries: IdentifierQueriesService;
}

const ADMIN_OPS: ReadonlySet<number> = new Set([
  OpCode.LIST_HANDLES,
  OpCode.CREATE_HANDLE,
  OpCode.DELETE_HANDLE,
  OpCode.ADD_VALUE,
  OpCode.REMOVE_VALUE,
  OpCode.MODIFY_VALUE,
]);

/** One encoded response: its envelope and message (a UDP answer splits the message into packets). */
export interface NativeAnswer {
  envelope: Envelope;
  message: Buffer;
  /** Messages that follow this one for the same request (LIST_HANDLES streams its pages). */
  continued?: NativeAnswer[];
}

/** Handle and type names are UTF-8 text; one that is not cannot name anything here. */
function text(bytes: Buffer, what: string): string {
  const decoded = utf8Text(bytes);
  if (decoded === undefined) throw new WireError(`The ${what} is not valid UTF-8`, ResponseCode.INVALID_HANDLE);
  return decoded;
}

function parsedHandle(bytes: Buffer): ParsedHandle {
  const parsed = parseHandle(text(bytes, 'handle'));
  if (isHandleSyntaxError(parsed)) throw new WireError(parsed.message, ResponseCode.INVALID_HANDLE);
  return parsed;
}

const authenticationFailed = (message = 'Authentication failed') => new WireError(message, ResponseCode.AUTHENTICATION_FAILED);

/**
 * The native Handle protocol's behaviour (RFC 3652): resolution and site information, answered
 * from the same resolution service, cache and access rules as the REST and gRPC APIs. Native
 * requests are anonymous: only public values are ever sent (authenticated reads go over REST or
 * gRPC with a token). Administration (create, delete, add/modify/remove values) is challenged:
 * the client answers with its handle identity's secret or private key, and the request is then
 * carried out by the same write service, rules and per-handle admin checks as a REST write by
 * that identity.
 */
export class NativeHandleProtocol {
  /** Resolution bodies of anonymous answers, per cached record (see ResolutionService.cachedPublicAnswerAs). */
  private readonly publicBodies: PublicAnswerEncoding = {
    answers: new WeakMap(),
    encode: (answer) => {
      if (answer.responseCode !== ResponseCode.SUCCESS) throw new Error('not a plain answer');
      return resolutionBody(answer.handle, answer.values.map(wireValue));
    },
  };

  constructor(
    private readonly resolution: ResolutionService,
    private readonly site: () => SiteJson | undefined,
    private readonly logger: AppLogger,
    private readonly admin: NativeAdministration,
  ) {}

  /** The answer to one message from `source` (the client's address); never thrown. */
  async answer(envelope: Envelope, message: Buffer, source?: string): Promise<NativeAnswer> {
    let req: RawRequest;
    try {
      req = decodeRequest(envelope, message);
    } catch (err) {
      return this.error(this.bare(envelope), err);
    }
    try {
      return await this.dispatch(req, sourceOf(source));
    } catch (err) {
      return this.error(req, err);
    }
  }

  private async dispatch(req: RawRequest, source: string): Promise<NativeAnswer> {
    const op = req.header.opCode;
    if (op === OpCode.RESOLUTION) return this.resolve(req);
    if (op === OpCode.GET_SITE_INFO) return this.siteInfo(req);
    if (ADMIN_OPS.has(op)) return this.challenge(req);
    if (op === OpCode.RESPONSE_TO_CHALLENGE) return this.answerToChallenge(req, source);
    throw new WireError(`Unknown op code ${op}`, ResponseCode.OPERATION_NOT_SUPPORTED);
  }

  /**
   * An administration request: read it first (a malformed one is refused now, not after a round
   * trip), then challenge it. Nothing changes until the answer checks out.
   */
  private async challenge(req: RawRequest): Promise<NativeAnswer> {
    await this.administer(req, undefined);
    const { sessionId, nonce } = await this.admin.challenges.issue(req);
    return encodeResponse(req, {
      opCode: req.header.opCode,
      responseCode: ResponseCode.AUTHENTICATION_NEEDED,
      body: challengeBody(nonce),
      digest: true,
      sessionId,
    });
  }

  /** The client's answer: check it against the challenge of its session, then carry the challenged request out as that identity. */
  private async answerToChallenge(answerReq: RawRequest, source: string): Promise<NativeAnswer> {
    const answer = decodeChallengeAnswer(answerReq.body);
    const pending = await this.admin.challenges.take(answerReq.envelope.sessionId);
    if (!pending) {
      throw authenticationFailed(`No challenge is open for session ${answerReq.envelope.sessionId}: it was answered already or expired`);
    }
    // Answered under the challenged request's op code: that is the response the client waits for.
    const opCode = pending.request.header.opCode;
    try {
      const actor = await this.authenticate(answer, signedData(pending.nonce, challengeDigest(pending.request)), source);
      if (opCode === OpCode.LIST_HANDLES) return await this.listHandles(answerReq, pending.request, actor);
      const body = await this.administer(pending.request, actor);
      return encodeResponse(answerReq, { opCode, responseCode: ResponseCode.SUCCESS, body });
    } catch (err) {
      return this.error(answerReq, err, opCode);
    }
  }

  /** The identity an answer names, when its signature checks out against the identity's stored key. */
  private async authenticate(answer: ReturnType<typeof decodeChallengeAnswer>, data: Buffer, source: string): Promise<Principal> {
    const authType = answer.authType.toString('latin1');
    if (authType !== 'HS_SECKEY' && authType !== 'HS_PUBKEY') {
      throw new WireError(
        `Authentication type ${JSON.stringify(authType.slice(0, 40))} is not HS_SECKEY or HS_PUBKEY`,
        ResponseCode.AUTHENTICATION_FAILED,
      );
    }
    let identity: ParsedHandle;
    try {
      identity = parsedHandle(answer.identityHandle);
    } catch {
      throw authenticationFailed('The identity handle is not a handle');
    }
    const index = answer.identityIndex;
    const subject = identitySubject({ index, key: identity.key });
    if (await this.admin.failures.blocked(source, subject)) {
      throw authenticationFailed('Too many failed authentications from your address; try again in a minute');
    }
    const stored = index > 0 ? await this.admin.repository.secretKeyOf(identity.key, index) : undefined;
    let ok = false;
    if (stored && stored.type === authType && stored.owner) {
      if (authType === 'HS_SECKEY' && stored.sealedSecret) {
        ok = await secretKeySigned(this.admin.secretBox.open(stored.sealedSecret), data, answer.signedResponse);
      } else if (authType === 'HS_PUBKEY' && typeof stored.value === 'string') {
        const key = handlePublicKey(valueBytes(stored.format, stored.value));
        ok = key !== undefined && publicKeySigned(key, data, answer.signedResponse);
      }
    }
    if (!ok || !stored?.owner) {
      await this.admin.failures.record(source, subject);
      throw authenticationFailed();
    }
    if (stored.ownerSuspended) throw authenticationFailed('The identity may not act: its tenant is suspended');
    return identityPrincipal({ index, handle: identity.handle }, stored.owner);
  }

  /**
   * Reads an administration request and, with an actor, carries it out; returns the success body.
   * Without an actor it only checks that the request can be read and its values are valid.
   */
  private async administer(req: RawRequest, actor: Principal | undefined): Promise<Buffer> {
    const op = req.header.opCode;
    const flags = req.header.opFlags;
    const overwrite = (flags & OpFlag.OVERWRITE) !== 0;
    if (op === OpCode.LIST_HANDLES) {
      listedPrefix(decodeHandleBody(req.body));
      return Buffer.alloc(0);
    }
    if (op === OpCode.DELETE_HANDLE) {
      const handle = parsedHandle(decodeHandleBody(req.body));
      if (actor) await this.admin.identifiers.deleteRecord(actor, handle);
      return Buffer.alloc(0);
    }
    if (op === OpCode.REMOVE_VALUE) {
      const body = decodeRemoveValueBody(req.body);
      const handle = parsedHandle(body.handle);
      if (body.indexes.length === 0) throw new WireError('No index to remove', ResponseCode.INVALID_VALUE);
      if (actor) await this.admin.identifiers.deleteValues(actor, handle, body.indexes);
      return Buffer.alloc(0);
    }
    const body = decodeValuesBody(req.body);
    const values = handleValuesSchema.check(body.values.map(inputValue), 'values');
    if (op === OpCode.CREATE_HANDLE && (flags & OpFlag.MINT) !== 0) {
      // The handle given is the base the server appends a suffix to (88.100.1000/ or 88.100.1000/pump-).
      const base = text(body.handle, 'handle');
      if (!actor) return Buffer.alloc(0);
      const outcome = await this.admin.identifiers.mintRecord(actor, base, values, {});
      return createdBody(String(outcome.body.handle));
    }
    const handle = parsedHandle(body.handle);
    if (!actor) return Buffer.alloc(0);
    if (op === OpCode.CREATE_HANDLE) {
      await this.admin.identifiers.putRecord(actor, handle, values, { overwrite });
      return createdBody(handle.handle);
    }
    const indexes = values.map((v) => v.index);
    if (op === OpCode.ADD_VALUE) await this.admin.identifiers.putValues(actor, handle, values, { indexes, overwrite });
    else await this.admin.identifiers.putValues(actor, handle, values, { indexes, overwrite: true, mustExist: true });
    return Buffer.alloc(0);
  }

  private siteInfo(req: RawRequest): NativeAnswer {
    decodeHandleBody(req.body);
    const site = this.site();
    const record = site && siteRecordOf(site);
    if (!site || !record) throw new WireError('The node is starting', ResponseCode.SERVER_TOO_BUSY);
    return encodeResponse(req, {
      opCode: OpCode.GET_SITE_INFO,
      responseCode: ResponseCode.SUCCESS,
      body: encodeSiteRecord(record),
      siteInfoSerial: site.serialNumber,
    });
  }

  private async resolve(req: RawRequest): Promise<NativeAnswer> {
    const body = decodeResolutionBody(req.body);
    const handle = text(body.handle, 'handle');
    const types = body.types.map((t) => text(t, 'type'));
    if (body.indexes.some((i) => i < 0)) throw new WireError('A requested index is negative', ResponseCode.INVALID_VALUE);
    const flags = req.header.opFlags;
    const authoritative = (flags & OpFlag.AUTHORITATIVE) !== 0;
    if (!authoritative && types.length === 0 && body.indexes.length === 0) {
      // A record held in memory: its answer body encoded once per cached record, as the REST and gRPC fast paths do.
      const cached = this.resolution.cachedPublicAnswerAs(handle, this.publicBodies);
      if (cached) return encodeResponse(req, { opCode: req.header.opCode, responseCode: ResponseCode.SUCCESS, body: cached });
    }
    if ((flags & OpFlag.RECURSIVE) === 0) {
      const referral = await this.resolution.referral(handle);
      if (referral) {
        return encodeResponse(req, {
          opCode: req.header.opCode,
          responseCode: ResponseCode.SERVICE_REFERRAL,
          body: resolutionBody(referral.handle, referral.sites.map(wireValue)),
        });
      }
    }
    const result = await this.resolution.resolve(
      undefined,
      handle,
      { types, indexes: body.indexes },
      authoritative,
      req.header.recursionCount,
    );
    if (result.responseCode !== ResponseCode.SUCCESS) {
      return encodeResponse(req, { opCode: req.header.opCode, responseCode: result.responseCode, body: errorBody('No values match') });
    }
    return encodeResponse(req, {
      opCode: req.header.opCode,
      responseCode: ResponseCode.SUCCESS,
      body: resolutionBody(result.handle, result.values.map(wireValue)),
    });
  }

  /**
   * LIST_HANDLES of `0.NA/<prefix>` for an identity of the tenant owning it (as GET /v1/identifiers):
   * the handles in pages, one message each, every one but the last flagged CONTINUOUS.
   */
  private async listHandles(answerReq: RawRequest, original: RawRequest, actor: Principal): Promise<NativeAnswer> {
    const prefix = listedPrefix(decodeHandleBody(original.body));
    const pages: Buffer[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.admin.queries.listByPrefix(actor, prefix, LIST_PAGE_SIZE, cursor);
      pages.push(handleListBody(page.items.map((i) => i.handle)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const answers = pages.map((body, i) =>
      encodeResponse(answerReq, {
        opCode: OpCode.LIST_HANDLES,
        responseCode: ResponseCode.SUCCESS,
        body,
        extraFlags: i < pages.length - 1 ? OpFlag.CONTINUOUS : 0,
      }),
    );
    return { ...answers[0], continued: answers.slice(1) };
  }

  /** A request that could not be read: its envelope is all there is to answer. */
  private bare(envelope: Envelope): RawRequest {
    const headerAndBody = Buffer.alloc(0);
    return {
      envelope,
      header: { opCode: 0, responseCode: 0, opFlags: 0, siteInfoSerial: 0, recursionCount: 0, expiration: 0, bodyLength: 0 },
      body: headerAndBody,
      headerAndBody,
    };
  }

  /** The protocol's code and message for a failure; unexpected ones are logged and answered as a plain error. */
  private failure(req: RawRequest, err: unknown): { code: number; message: string } {
    if (err instanceof WireError) return { code: err.responseCode, message: err.message };
    if (err instanceof IdentifierError) return { code: identifierHandleCode(err.code), message: err.message };
    if (err instanceof RequestValidationError) {
      const message = err.fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ');
      return { code: ResponseCode.INVALID_VALUE, message: message || 'The values are not valid' };
    }
    this.logger.error({ err, opCode: req.header.opCode }, 'native Handle request failed');
    return { code: ResponseCode.ERROR, message: 'Internal error' };
  }

  private error(req: RawRequest, err: unknown, opCode = req.header.opCode): NativeAnswer {
    const { code, message } = this.failure(req, err);
    return encodeResponse(req, { opCode, responseCode: code, body: errorBody(message) });
  }
}

/** Envelope and message as one buffer, with the messages that follow it (TCP and HTTP). */
export function framed(answer: NativeAnswer): Buffer {
  const one = Buffer.concat([encodeEnvelope(answer.envelope), answer.message]);
  return answer.continued?.length ? Buffer.concat([one, ...answer.continued.map(framed)]) : one;
}

/** Handles per LIST_HANDLES message: well under the message limit however long the handles are. */
const LIST_PAGE_SIZE = 200;

/** The prefix a LIST_HANDLES request names: its prefix record, `0.NA/<prefix>`. */
function listedPrefix(handle: Buffer): string {
  const prefix = parsePrefixRecord(text(handle, 'handle'));
  if (prefix === undefined) throw new WireError('LIST_HANDLES names a prefix record, 0.NA/<prefix>', ResponseCode.INVALID_HANDLE);
  return prefix;
}
