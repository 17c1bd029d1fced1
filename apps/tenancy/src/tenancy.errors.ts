import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, KafkaDisposition, assertNever } from '@iip/platform-errors';

export enum TenancyErrorCode {
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  KIND_NOT_ALLOWED_UNDER_PARENT = 'KIND_NOT_ALLOWED_UNDER_PARENT',
  CREDIT_CODE_UNAVAILABLE = 'CREDIT_CODE_UNAVAILABLE',
  VERSION_CONFLICT = 'VERSION_CONFLICT',
  TENANT_SUSPENDED = 'TENANT_SUSPENDED',
  NOT_PERMITTED = 'NOT_PERMITTED',
  CLIENT_NOT_FOUND = 'CLIENT_NOT_FOUND',
  SCOPE_NOT_GRANTABLE = 'SCOPE_NOT_GRANTABLE',
  JOB_NOT_FOUND = 'JOB_NOT_FOUND',
  BULK_INPUT_INVALID = 'BULK_INPUT_INVALID',
  GRANT_NOT_FOUND = 'GRANT_NOT_FOUND',
}

export function tenancyHttpStatus(code: TenancyErrorCode): number {
  switch (code) {
    case TenancyErrorCode.TENANT_NOT_FOUND:
    case TenancyErrorCode.CLIENT_NOT_FOUND:
    case TenancyErrorCode.JOB_NOT_FOUND:
    case TenancyErrorCode.GRANT_NOT_FOUND:
      return 404;
    case TenancyErrorCode.KIND_NOT_ALLOWED_UNDER_PARENT:
      return 422;
    case TenancyErrorCode.CREDIT_CODE_UNAVAILABLE:
    case TenancyErrorCode.VERSION_CONFLICT:
    case TenancyErrorCode.TENANT_SUSPENDED:
      return 409;
    case TenancyErrorCode.NOT_PERMITTED:
    case TenancyErrorCode.SCOPE_NOT_GRANTABLE:
      return 403;
    case TenancyErrorCode.BULK_INPUT_INVALID:
      return 400;
    default:
      return assertNever(code);
  }
}

export function tenancyGrpcStatus(code: TenancyErrorCode): GrpcStatus {
  switch (code) {
    case TenancyErrorCode.TENANT_NOT_FOUND:
    case TenancyErrorCode.CLIENT_NOT_FOUND:
    case TenancyErrorCode.JOB_NOT_FOUND:
    case TenancyErrorCode.GRANT_NOT_FOUND:
      return GrpcStatus.NOT_FOUND;
    case TenancyErrorCode.KIND_NOT_ALLOWED_UNDER_PARENT:
    case TenancyErrorCode.TENANT_SUSPENDED:
      return GrpcStatus.FAILED_PRECONDITION;
    case TenancyErrorCode.CREDIT_CODE_UNAVAILABLE:
      return GrpcStatus.ALREADY_EXISTS;
    case TenancyErrorCode.VERSION_CONFLICT:
      return GrpcStatus.ABORTED;
    case TenancyErrorCode.NOT_PERMITTED:
    case TenancyErrorCode.SCOPE_NOT_GRANTABLE:
      return GrpcStatus.PERMISSION_DENIED;
    case TenancyErrorCode.BULK_INPUT_INVALID:
      return GrpcStatus.INVALID_ARGUMENT;
    default:
      return assertNever(code);
  }
}

export function tenancyKafkaDisposition(code: TenancyErrorCode): KafkaDisposition {
  switch (code) {
    // A concurrent writer won; the next attempt reads the new version.
    case TenancyErrorCode.VERSION_CONFLICT:
      return 'retry';
    case TenancyErrorCode.TENANT_NOT_FOUND:
    case TenancyErrorCode.KIND_NOT_ALLOWED_UNDER_PARENT:
    case TenancyErrorCode.CREDIT_CODE_UNAVAILABLE:
    case TenancyErrorCode.TENANT_SUSPENDED:
    case TenancyErrorCode.NOT_PERMITTED:
    case TenancyErrorCode.CLIENT_NOT_FOUND:
    case TenancyErrorCode.SCOPE_NOT_GRANTABLE:
    case TenancyErrorCode.JOB_NOT_FOUND:
    case TenancyErrorCode.BULK_INPUT_INVALID:
    case TenancyErrorCode.GRANT_NOT_FOUND:
      return 'dead-letter';
    default:
      return assertNever(code);
  }
}

export class TenancyError extends DomainError<TenancyErrorCode> {
  httpStatus() {
    return tenancyHttpStatus(this.code);
  }
  grpcStatus() {
    return tenancyGrpcStatus(this.code);
  }
  kafkaDisposition() {
    return tenancyKafkaDisposition(this.code);
  }

  static tenantNotFound(id: string) {
    return new TenancyError(TenancyErrorCode.TENANT_NOT_FOUND, `Tenant ${id} was not found`);
  }

  /** The same words wherever the tenant holding the code sits, so the answer names none. */
  static creditCodeUnavailable() {
    return new TenancyError(TenancyErrorCode.CREDIT_CODE_UNAVAILABLE, 'This credit code is not available');
  }
}
