import { AppLogger } from '@iip/platform-observability';
import { IdentifierError, identifierHandleCode } from '../identifier.errors';
import { ResolutionService } from '../resolution/resolution.service';
import {
  Envelope,
  OpCode,
  OpFlag,
  RawRequest,
  ResponseCode,
  WireError,
  decodeHandleBody,
  decodeRequest,
  decodeResolutionBody,
  encodeEnvelope,
  encodeResponse,
  encodeSiteRecord,
  errorBody,
  resolutionBody,
} from './handle-wire';
import { SiteJson, siteRecordOf, wireValue } from './native-values';

/** One encoded response: its envelope and message (a UDP answer splits the message into packets). */
export interface NativeAnswer {
  envelope: Envelope;
  message: Buffer;
}

/** Handle and type names are UTF-8 text; one that is not cannot name anything here. */
function text(bytes: Buffer, what: string): string {
  const decoded = bytes.toString('utf8');
  if (!Buffer.from(decoded, 'utf8').equals(bytes)) throw new WireError(`The ${what} is not valid UTF-8`, ResponseCode.INVALID_HANDLE);
  return decoded;
}

/**
 * The native Handle protocol's behaviour (RFC 3652): resolution and site information, answered
 * from the same resolution service, cache and access rules as the REST and gRPC APIs. Native
 * requests are anonymous: only public values are ever sent (authenticated reads go over REST or
 * gRPC with a token). Administration over the native protocol (create/add/modify/remove/delete
 * with challenge–response) is not offered yet and is answered OPERATION_NOT_SUPPORTED.
 */
export class NativeHandleProtocol {
  constructor(
    private readonly resolution: ResolutionService,
    private readonly site: () => SiteJson | undefined,
    private readonly logger: AppLogger,
  ) {}

  /** The answer to one message, or undefined when there is no request id to answer (never thrown). */
  async answer(envelope: Envelope, message: Buffer): Promise<NativeAnswer> {
    let req: RawRequest;
    try {
      req = decodeRequest(envelope, message);
    } catch (err) {
      return this.error(this.bare(envelope), err);
    }
    try {
      return await this.dispatch(req);
    } catch (err) {
      return this.error(req, err);
    }
  }

  private async dispatch(req: RawRequest): Promise<NativeAnswer> {
    switch (req.header.opCode) {
      case OpCode.RESOLUTION:
        return this.resolve(req);
      case OpCode.GET_SITE_INFO:
        return this.siteInfo(req);
      case OpCode.CREATE_HANDLE:
      case OpCode.DELETE_HANDLE:
      case OpCode.ADD_VALUE:
      case OpCode.REMOVE_VALUE:
      case OpCode.MODIFY_VALUE:
      case OpCode.LIST_HANDLES:
      case OpCode.RESPONSE_TO_CHALLENGE:
        throw new WireError(
          'Administration over the native Handle protocol is not offered by this node yet; use PUT/DELETE /api/handles',
          ResponseCode.OPERATION_NOT_SUPPORTED,
        );
      default:
        throw new WireError(`Unknown op code ${req.header.opCode}`, ResponseCode.OPERATION_NOT_SUPPORTED);
    }
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
    const authoritative = (req.header.opFlags & OpFlag.AUTHORITATIVE) !== 0;
    const result = await this.resolution.resolve(undefined, handle, { types, indexes: body.indexes }, authoritative, req.header.recursionCount);
    if (result.responseCode !== ResponseCode.SUCCESS) {
      return encodeResponse(req, { opCode: req.header.opCode, responseCode: result.responseCode, body: errorBody('No values match') });
    }
    return encodeResponse(req, {
      opCode: req.header.opCode,
      responseCode: ResponseCode.SUCCESS,
      body: resolutionBody(result.handle, result.values.map(wireValue)),
    });
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

  private error(req: RawRequest, err: unknown): NativeAnswer {
    let code: number;
    let message: string;
    if (err instanceof WireError) {
      code = err.responseCode;
      message = err.message;
    } else if (err instanceof IdentifierError) {
      code = identifierHandleCode(err.code);
      message = err.message;
    } else {
      this.logger.error({ err, opCode: req.header.opCode }, 'native Handle request failed');
      code = ResponseCode.ERROR;
      message = 'Internal error';
    }
    return encodeResponse(req, { opCode: req.header.opCode, responseCode: code, body: errorBody(message) });
  }
}

/** Envelope and message as one buffer (TCP and HTTP). */
export function framed(answer: NativeAnswer): Buffer {
  return Buffer.concat([encodeEnvelope(answer.envelope), answer.message]);
}
