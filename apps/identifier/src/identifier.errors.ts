import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, KafkaDisposition, assertNever } from '@iip/platform-errors';

export enum IdentifierErrorCode {
  HANDLE_NOT_FOUND = 'HANDLE_NOT_FOUND',
  HANDLE_ALREADY_EXISTS = 'HANDLE_ALREADY_EXISTS',
  INVALID_HANDLE = 'INVALID_HANDLE',
  VALUES_NOT_FOUND = 'VALUES_NOT_FOUND',
  /** A value at an index the client asked to add without overwriting (Handle API `?index=…&overwrite=false`). */
  VALUE_ALREADY_EXISTS = 'VALUE_ALREADY_EXISTS',
  INVALID_VALUE = 'INVALID_VALUE',
  /** A reserved value (HS_ADMIN, HS_VLIST, node-level types) the caller may not write. */
  VALUE_NOT_PERMITTED = 'VALUE_NOT_PERMITTED',
  /** A handle identity (Basic `index:handle`) that no HS_ADMIN / HS_VLIST of the handle names. */
  NOT_HANDLE_ADMIN = 'NOT_HANDLE_ADMIN',
  SERVER_NOT_RESPONSIBLE = 'SERVER_NOT_RESPONSIBLE',
  AUTHENTICATION_NEEDED = 'AUTHENTICATION_NEEDED',
  PREFIX_NOT_OWNED = 'PREFIX_NOT_OWNED',
  PREFIX_NOT_FOUND = 'PREFIX_NOT_FOUND',
  PREFIX_ALREADY_EXISTS = 'PREFIX_ALREADY_EXISTS',
  VERSION_CONFLICT = 'VERSION_CONFLICT',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  TENANT_UNKNOWN = 'TENANT_UNKNOWN',
  RECURSION_LIMIT = 'RECURSION_LIMIT',
  UPSTREAM_UNAVAILABLE = 'UPSTREAM_UNAVAILABLE',
  /** A stored template the current validator cannot compile (stored under older rules): store a new version. */
  TEMPLATE_UNUSABLE = 'TEMPLATE_UNUSABLE',
}

/** Handle protocol response codes (RFC 3652 §2.2.2.3), as the Handle REST API reports them. */
export const HandleResponseCode = {
  SUCCESS: 1,
  ERROR: 2,
  RECURSION_LIMIT_EXCEEDED: 6,
  HANDLE_NOT_FOUND: 100,
  HANDLE_ALREADY_EXISTS: 101,
  INVALID_HANDLE: 102,
  VALUES_NOT_FOUND: 200,
  VALUE_ALREADY_EXISTS: 201,
  INVALID_VALUE: 202,
  SERVER_NOT_RESPONSIBLE: 301,
  NOT_AUTHORIZED: 400,
  AUTHENTICATION_NEEDED: 402,
} as const;

export function identifierHandleCode(code: IdentifierErrorCode): number {
  switch (code) {
    case IdentifierErrorCode.HANDLE_NOT_FOUND:
    case IdentifierErrorCode.PREFIX_NOT_FOUND:
      return HandleResponseCode.HANDLE_NOT_FOUND;
    case IdentifierErrorCode.HANDLE_ALREADY_EXISTS:
    case IdentifierErrorCode.PREFIX_ALREADY_EXISTS:
      return HandleResponseCode.HANDLE_ALREADY_EXISTS;
    case IdentifierErrorCode.INVALID_HANDLE:
      return HandleResponseCode.INVALID_HANDLE;
    case IdentifierErrorCode.VALUES_NOT_FOUND:
      return HandleResponseCode.VALUES_NOT_FOUND;
    case IdentifierErrorCode.VALUE_ALREADY_EXISTS:
      return HandleResponseCode.VALUE_ALREADY_EXISTS;
    case IdentifierErrorCode.INVALID_VALUE:
      return HandleResponseCode.INVALID_VALUE;
    case IdentifierErrorCode.SERVER_NOT_RESPONSIBLE:
      return HandleResponseCode.SERVER_NOT_RESPONSIBLE;
    case IdentifierErrorCode.AUTHENTICATION_NEEDED:
      return HandleResponseCode.AUTHENTICATION_NEEDED;
    case IdentifierErrorCode.PREFIX_NOT_OWNED:
    case IdentifierErrorCode.VALUE_NOT_PERMITTED:
    case IdentifierErrorCode.NOT_HANDLE_ADMIN:
      return HandleResponseCode.NOT_AUTHORIZED;
    case IdentifierErrorCode.VERSION_CONFLICT:
    case IdentifierErrorCode.IDEMPOTENCY_KEY_REUSED:
    case IdentifierErrorCode.TENANT_UNKNOWN:
    case IdentifierErrorCode.UPSTREAM_UNAVAILABLE:
    case IdentifierErrorCode.TEMPLATE_UNUSABLE:
      return HandleResponseCode.ERROR;
    case IdentifierErrorCode.RECURSION_LIMIT:
      return HandleResponseCode.RECURSION_LIMIT_EXCEEDED;
    default:
      return assertNever(code);
  }
}

export function identifierHttpStatus(code: IdentifierErrorCode): number {
  switch (code) {
    case IdentifierErrorCode.HANDLE_NOT_FOUND:
    case IdentifierErrorCode.PREFIX_NOT_FOUND:
      return 404;
    // The Handle REST API: 301 and (outside resolution, where it is an answer with HTTP 200) 200 are 400 Bad Request.
    case IdentifierErrorCode.VALUES_NOT_FOUND:
    case IdentifierErrorCode.SERVER_NOT_RESPONSIBLE:
      return 400;
    case IdentifierErrorCode.HANDLE_ALREADY_EXISTS:
    case IdentifierErrorCode.VALUE_ALREADY_EXISTS:
    case IdentifierErrorCode.PREFIX_ALREADY_EXISTS:
    case IdentifierErrorCode.VERSION_CONFLICT:
      return 409;
    case IdentifierErrorCode.INVALID_HANDLE:
    case IdentifierErrorCode.INVALID_VALUE:
      return 400;
    case IdentifierErrorCode.AUTHENTICATION_NEEDED:
      return 401;
    case IdentifierErrorCode.PREFIX_NOT_OWNED:
    case IdentifierErrorCode.VALUE_NOT_PERMITTED:
    case IdentifierErrorCode.NOT_HANDLE_ADMIN:
      return 403;
    case IdentifierErrorCode.IDEMPOTENCY_KEY_REUSED:
    case IdentifierErrorCode.TENANT_UNKNOWN:
    case IdentifierErrorCode.TEMPLATE_UNUSABLE:
      return 422;
    case IdentifierErrorCode.RECURSION_LIMIT:
      return 508;
    case IdentifierErrorCode.UPSTREAM_UNAVAILABLE:
      return 502;
    default:
      return assertNever(code);
  }
}

export function identifierGrpcStatus(code: IdentifierErrorCode): GrpcStatus {
  switch (code) {
    case IdentifierErrorCode.HANDLE_NOT_FOUND:
    case IdentifierErrorCode.VALUES_NOT_FOUND:
    case IdentifierErrorCode.PREFIX_NOT_FOUND:
      return GrpcStatus.NOT_FOUND;
    case IdentifierErrorCode.HANDLE_ALREADY_EXISTS:
    case IdentifierErrorCode.VALUE_ALREADY_EXISTS:
    case IdentifierErrorCode.PREFIX_ALREADY_EXISTS:
      return GrpcStatus.ALREADY_EXISTS;
    case IdentifierErrorCode.INVALID_HANDLE:
    case IdentifierErrorCode.INVALID_VALUE:
      return GrpcStatus.INVALID_ARGUMENT;
    case IdentifierErrorCode.SERVER_NOT_RESPONSIBLE:
      return GrpcStatus.UNAVAILABLE;
    case IdentifierErrorCode.AUTHENTICATION_NEEDED:
      return GrpcStatus.UNAUTHENTICATED;
    case IdentifierErrorCode.PREFIX_NOT_OWNED:
    case IdentifierErrorCode.VALUE_NOT_PERMITTED:
    case IdentifierErrorCode.NOT_HANDLE_ADMIN:
      return GrpcStatus.PERMISSION_DENIED;
    case IdentifierErrorCode.VERSION_CONFLICT:
      return GrpcStatus.ABORTED;
    case IdentifierErrorCode.IDEMPOTENCY_KEY_REUSED:
    case IdentifierErrorCode.TENANT_UNKNOWN:
    case IdentifierErrorCode.RECURSION_LIMIT:
    case IdentifierErrorCode.TEMPLATE_UNUSABLE:
      return GrpcStatus.FAILED_PRECONDITION;
    case IdentifierErrorCode.UPSTREAM_UNAVAILABLE:
      return GrpcStatus.UNAVAILABLE;
    default:
      return assertNever(code);
  }
}

export function identifierKafkaDisposition(code: IdentifierErrorCode): KafkaDisposition {
  switch (code) {
    // The tenant event may simply not have arrived yet.
    case IdentifierErrorCode.TENANT_UNKNOWN:
    case IdentifierErrorCode.VERSION_CONFLICT:
    case IdentifierErrorCode.UPSTREAM_UNAVAILABLE:
      return 'retry';
    case IdentifierErrorCode.HANDLE_NOT_FOUND:
    case IdentifierErrorCode.HANDLE_ALREADY_EXISTS:
    case IdentifierErrorCode.INVALID_HANDLE:
    case IdentifierErrorCode.VALUES_NOT_FOUND:
    case IdentifierErrorCode.VALUE_ALREADY_EXISTS:
    case IdentifierErrorCode.INVALID_VALUE:
    case IdentifierErrorCode.SERVER_NOT_RESPONSIBLE:
    case IdentifierErrorCode.AUTHENTICATION_NEEDED:
    case IdentifierErrorCode.PREFIX_NOT_OWNED:
    case IdentifierErrorCode.VALUE_NOT_PERMITTED:
    case IdentifierErrorCode.NOT_HANDLE_ADMIN:
    case IdentifierErrorCode.PREFIX_NOT_FOUND:
    case IdentifierErrorCode.PREFIX_ALREADY_EXISTS:
    case IdentifierErrorCode.IDEMPOTENCY_KEY_REUSED:
    case IdentifierErrorCode.RECURSION_LIMIT:
    case IdentifierErrorCode.TEMPLATE_UNUSABLE:
      return 'dead-letter';
    default:
      return assertNever(code);
  }
}

export class IdentifierError extends DomainError<IdentifierErrorCode> {
  httpStatus() {
    return identifierHttpStatus(this.code);
  }
  grpcStatus() {
    return identifierGrpcStatus(this.code);
  }
  kafkaDisposition() {
    return identifierKafkaDisposition(this.code);
  }
  handleCode() {
    return identifierHandleCode(this.code);
  }
}
