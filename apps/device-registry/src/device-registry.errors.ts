import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, KafkaDisposition, assertNever } from '@iip/platform-errors';

export enum DeviceRegistryErrorCode {
  DEVICE_NOT_FOUND = 'DEVICE_NOT_FOUND',
  MODEL_NOT_FOUND = 'MODEL_NOT_FOUND',
  MODEL_VERSION_PUBLISHED = 'MODEL_VERSION_PUBLISHED',
  MODEL_VERSION_NOT_PUBLISHED = 'MODEL_VERSION_NOT_PUBLISHED',
  TD_NOT_IMPORTABLE = 'TD_NOT_IMPORTABLE',
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  TENANT_NOT_KNOWN_YET = 'TENANT_NOT_KNOWN_YET',
  TENANT_SUSPENDED = 'TENANT_SUSPENDED',
  SERIAL_TAKEN = 'SERIAL_TAKEN',
  DEVICE_QUOTA_EXCEEDED = 'DEVICE_QUOTA_EXCEEDED',
  LIFECYCLE_TRANSITION_NOT_ALLOWED = 'LIFECYCLE_TRANSITION_NOT_ALLOWED',
  GATEWAY_INVALID = 'GATEWAY_INVALID',
  VERSION_CONFLICT = 'VERSION_CONFLICT',
  NOT_PERMITTED = 'NOT_PERMITTED',
  CREDENTIAL_LIMIT = 'CREDENTIAL_LIMIT',
  CREDENTIAL_NOT_FOUND = 'CREDENTIAL_NOT_FOUND',
  CREDENTIAL_INPUT_INVALID = 'CREDENTIAL_INPUT_INVALID',
  DEVICE_NOT_AUTHENTICATED = 'DEVICE_NOT_AUTHENTICATED',
  TWIN_TOO_LARGE = 'TWIN_TOO_LARGE',
  IMPORT_NOT_FOUND = 'IMPORT_NOT_FOUND',
  IMPORT_TOO_LARGE = 'IMPORT_TOO_LARGE',
  IMPORT_UNREADABLE = 'IMPORT_UNREADABLE',
}

export function deviceRegistryHttpStatus(code: DeviceRegistryErrorCode): number {
  switch (code) {
    case DeviceRegistryErrorCode.DEVICE_NOT_FOUND:
    case DeviceRegistryErrorCode.MODEL_NOT_FOUND:
    case DeviceRegistryErrorCode.TENANT_NOT_FOUND:
    case DeviceRegistryErrorCode.CREDENTIAL_NOT_FOUND:
    case DeviceRegistryErrorCode.IMPORT_NOT_FOUND:
      return 404;
    case DeviceRegistryErrorCode.CREDENTIAL_INPUT_INVALID:
      return 400;
    case DeviceRegistryErrorCode.DEVICE_NOT_AUTHENTICATED:
      return 401;
    case DeviceRegistryErrorCode.TWIN_TOO_LARGE:
    case DeviceRegistryErrorCode.IMPORT_TOO_LARGE:
      return 413;
    case DeviceRegistryErrorCode.IMPORT_UNREADABLE:
      return 400;
    case DeviceRegistryErrorCode.MODEL_VERSION_PUBLISHED:
    case DeviceRegistryErrorCode.SERIAL_TAKEN:
    case DeviceRegistryErrorCode.LIFECYCLE_TRANSITION_NOT_ALLOWED:
    case DeviceRegistryErrorCode.VERSION_CONFLICT:
    case DeviceRegistryErrorCode.TENANT_SUSPENDED:
    case DeviceRegistryErrorCode.DEVICE_QUOTA_EXCEEDED:
    case DeviceRegistryErrorCode.CREDENTIAL_LIMIT:
      return 409;
    case DeviceRegistryErrorCode.MODEL_VERSION_NOT_PUBLISHED:
    case DeviceRegistryErrorCode.TD_NOT_IMPORTABLE:
    case DeviceRegistryErrorCode.GATEWAY_INVALID:
      return 422;
    case DeviceRegistryErrorCode.TENANT_NOT_KNOWN_YET:
      return 503;
    case DeviceRegistryErrorCode.NOT_PERMITTED:
      return 403;
    default:
      return assertNever(code);
  }
}

export function deviceRegistryGrpcStatus(code: DeviceRegistryErrorCode): GrpcStatus {
  switch (code) {
    case DeviceRegistryErrorCode.DEVICE_NOT_FOUND:
    case DeviceRegistryErrorCode.MODEL_NOT_FOUND:
    case DeviceRegistryErrorCode.TENANT_NOT_FOUND:
    case DeviceRegistryErrorCode.CREDENTIAL_NOT_FOUND:
    case DeviceRegistryErrorCode.IMPORT_NOT_FOUND:
      return GrpcStatus.NOT_FOUND;
    case DeviceRegistryErrorCode.CREDENTIAL_INPUT_INVALID:
    case DeviceRegistryErrorCode.TWIN_TOO_LARGE:
    case DeviceRegistryErrorCode.IMPORT_TOO_LARGE:
    case DeviceRegistryErrorCode.IMPORT_UNREADABLE:
      return GrpcStatus.INVALID_ARGUMENT;
    case DeviceRegistryErrorCode.DEVICE_NOT_AUTHENTICATED:
      return GrpcStatus.UNAUTHENTICATED;
    case DeviceRegistryErrorCode.CREDENTIAL_LIMIT:
      return GrpcStatus.FAILED_PRECONDITION;
    case DeviceRegistryErrorCode.SERIAL_TAKEN:
      return GrpcStatus.ALREADY_EXISTS;
    case DeviceRegistryErrorCode.VERSION_CONFLICT:
      return GrpcStatus.ABORTED;
    case DeviceRegistryErrorCode.MODEL_VERSION_PUBLISHED:
    case DeviceRegistryErrorCode.MODEL_VERSION_NOT_PUBLISHED:
    case DeviceRegistryErrorCode.LIFECYCLE_TRANSITION_NOT_ALLOWED:
    case DeviceRegistryErrorCode.TENANT_SUSPENDED:
    case DeviceRegistryErrorCode.GATEWAY_INVALID:
      return GrpcStatus.FAILED_PRECONDITION;
    case DeviceRegistryErrorCode.TD_NOT_IMPORTABLE:
      return GrpcStatus.INVALID_ARGUMENT;
    case DeviceRegistryErrorCode.DEVICE_QUOTA_EXCEEDED:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case DeviceRegistryErrorCode.TENANT_NOT_KNOWN_YET:
      return GrpcStatus.UNAVAILABLE;
    case DeviceRegistryErrorCode.NOT_PERMITTED:
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return assertNever(code);
  }
}

export function deviceRegistryKafkaDisposition(code: DeviceRegistryErrorCode): KafkaDisposition {
  switch (code) {
    // The event that would make it work may simply not have arrived yet.
    case DeviceRegistryErrorCode.TENANT_NOT_KNOWN_YET:
    case DeviceRegistryErrorCode.VERSION_CONFLICT:
      return 'retry';
    case DeviceRegistryErrorCode.DEVICE_NOT_FOUND:
    case DeviceRegistryErrorCode.MODEL_NOT_FOUND:
    case DeviceRegistryErrorCode.MODEL_VERSION_PUBLISHED:
    case DeviceRegistryErrorCode.MODEL_VERSION_NOT_PUBLISHED:
    case DeviceRegistryErrorCode.TD_NOT_IMPORTABLE:
    case DeviceRegistryErrorCode.TENANT_NOT_FOUND:
    case DeviceRegistryErrorCode.TENANT_SUSPENDED:
    case DeviceRegistryErrorCode.SERIAL_TAKEN:
    case DeviceRegistryErrorCode.DEVICE_QUOTA_EXCEEDED:
    case DeviceRegistryErrorCode.LIFECYCLE_TRANSITION_NOT_ALLOWED:
    case DeviceRegistryErrorCode.GATEWAY_INVALID:
    case DeviceRegistryErrorCode.NOT_PERMITTED:
    case DeviceRegistryErrorCode.CREDENTIAL_LIMIT:
    case DeviceRegistryErrorCode.CREDENTIAL_NOT_FOUND:
    case DeviceRegistryErrorCode.CREDENTIAL_INPUT_INVALID:
    case DeviceRegistryErrorCode.DEVICE_NOT_AUTHENTICATED:
    case DeviceRegistryErrorCode.TWIN_TOO_LARGE:
    case DeviceRegistryErrorCode.IMPORT_NOT_FOUND:
    case DeviceRegistryErrorCode.IMPORT_TOO_LARGE:
    case DeviceRegistryErrorCode.IMPORT_UNREADABLE:
      return 'dead-letter';
    default:
      return assertNever(code);
  }
}

export class DeviceRegistryError extends DomainError<DeviceRegistryErrorCode> {
  httpStatus() {
    return deviceRegistryHttpStatus(this.code);
  }
  grpcStatus() {
    return deviceRegistryGrpcStatus(this.code);
  }
  kafkaDisposition() {
    return deviceRegistryKafkaDisposition(this.code);
  }

  static deviceNotFound(id: string) {
    return new DeviceRegistryError(DeviceRegistryErrorCode.DEVICE_NOT_FOUND, `Device ${id} was not found`);
  }

  static modelNotFound(id: string, version?: number) {
    return new DeviceRegistryError(
      DeviceRegistryErrorCode.MODEL_NOT_FOUND,
      version === undefined ? `Thing model ${id} was not found` : `Thing model ${id} has no version ${version}`,
    );
  }
}

export function isDeviceRegistryError(err: unknown): err is DeviceRegistryError {
  return err instanceof DeviceRegistryError;
}
