import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, KafkaDisposition, assertNever } from '@iip/platform-errors';

export enum TelemetryErrorCode {
  DEVICE_NOT_FOUND = 'DEVICE_NOT_FOUND',
  DEVICE_NOT_KNOWN_YET = 'DEVICE_NOT_KNOWN_YET',
  DEVICE_NOT_AUTHENTICATED = 'DEVICE_NOT_AUTHENTICATED',
  DEVICE_NOT_ACTIVE = 'DEVICE_NOT_ACTIVE',
  NOT_YOUR_DEVICE = 'NOT_YOUR_DEVICE',
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  PAYLOAD_INVALID = 'PAYLOAD_INVALID',
  TOO_MANY_POINTS = 'TOO_MANY_POINTS',
  BACKBONE_UNAVAILABLE = 'BACKBONE_UNAVAILABLE',
  REGISTRY_UNAVAILABLE = 'REGISTRY_UNAVAILABLE',
  QUERY_INVALID = 'QUERY_INVALID',
  RULE_NOT_FOUND = 'RULE_NOT_FOUND',
  ALARM_NOT_FOUND = 'ALARM_NOT_FOUND',
  ALARM_TRANSITION_NOT_ALLOWED = 'ALARM_TRANSITION_NOT_ALLOWED',
  COMMAND_NOT_FOUND = 'COMMAND_NOT_FOUND',
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  /** Selecting devices by site, line, tag or query asks the registry with the caller's token, which needs devices:read. */
  SELECTION_NOT_PERMITTED = 'SELECTION_NOT_PERMITTED',
  /** No maintenance profile on that device or model (or not one the caller may see). */
  MAINTENANCE_PROFILE_NOT_FOUND = 'MAINTENANCE_PROFILE_NOT_FOUND',
  /** The device has no health evaluation (no profile applies to it, or no hour of its data closed yet). */
  HEALTH_NOT_FOUND = 'HEALTH_NOT_FOUND',
  WORK_ORDER_NOT_FOUND = 'WORK_ORDER_NOT_FOUND',
  WORK_ORDER_CLOSED = 'WORK_ORDER_CLOSED',
}

export function telemetryHttpStatus(code: TelemetryErrorCode): number {
  switch (code) {
    case TelemetryErrorCode.DEVICE_NOT_FOUND:
    case TelemetryErrorCode.RULE_NOT_FOUND:
    case TelemetryErrorCode.ALARM_NOT_FOUND:
    case TelemetryErrorCode.COMMAND_NOT_FOUND:
    case TelemetryErrorCode.NOT_YOUR_DEVICE:
    case TelemetryErrorCode.TENANT_NOT_FOUND:
    case TelemetryErrorCode.MAINTENANCE_PROFILE_NOT_FOUND:
    case TelemetryErrorCode.HEALTH_NOT_FOUND:
    case TelemetryErrorCode.WORK_ORDER_NOT_FOUND:
      return 404;
    case TelemetryErrorCode.SELECTION_NOT_PERMITTED:
      return 403;
    case TelemetryErrorCode.DEVICE_NOT_AUTHENTICATED:
      return 401;
    case TelemetryErrorCode.DEVICE_NOT_ACTIVE:
    case TelemetryErrorCode.ALARM_TRANSITION_NOT_ALLOWED:
    case TelemetryErrorCode.WORK_ORDER_CLOSED:
      return 409;
    case TelemetryErrorCode.QUOTA_EXCEEDED:
      return 429;
    case TelemetryErrorCode.PAYLOAD_INVALID:
    case TelemetryErrorCode.QUERY_INVALID:
      return 400;
    case TelemetryErrorCode.TOO_MANY_POINTS:
      return 413;
    case TelemetryErrorCode.DEVICE_NOT_KNOWN_YET:
    case TelemetryErrorCode.BACKBONE_UNAVAILABLE:
    case TelemetryErrorCode.REGISTRY_UNAVAILABLE:
      return 503;
    default:
      return assertNever(code);
  }
}

export function telemetryGrpcStatus(code: TelemetryErrorCode): GrpcStatus {
  switch (code) {
    case TelemetryErrorCode.DEVICE_NOT_FOUND:
    case TelemetryErrorCode.RULE_NOT_FOUND:
    case TelemetryErrorCode.ALARM_NOT_FOUND:
    case TelemetryErrorCode.COMMAND_NOT_FOUND:
    case TelemetryErrorCode.NOT_YOUR_DEVICE:
    case TelemetryErrorCode.TENANT_NOT_FOUND:
    case TelemetryErrorCode.MAINTENANCE_PROFILE_NOT_FOUND:
    case TelemetryErrorCode.HEALTH_NOT_FOUND:
    case TelemetryErrorCode.WORK_ORDER_NOT_FOUND:
      return GrpcStatus.NOT_FOUND;
    case TelemetryErrorCode.SELECTION_NOT_PERMITTED:
      return GrpcStatus.PERMISSION_DENIED;
    case TelemetryErrorCode.DEVICE_NOT_AUTHENTICATED:
      return GrpcStatus.UNAUTHENTICATED;
    case TelemetryErrorCode.DEVICE_NOT_ACTIVE:
    case TelemetryErrorCode.ALARM_TRANSITION_NOT_ALLOWED:
    case TelemetryErrorCode.WORK_ORDER_CLOSED:
      return GrpcStatus.FAILED_PRECONDITION;
    case TelemetryErrorCode.QUOTA_EXCEEDED:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case TelemetryErrorCode.PAYLOAD_INVALID:
    case TelemetryErrorCode.QUERY_INVALID:
    case TelemetryErrorCode.TOO_MANY_POINTS:
      return GrpcStatus.INVALID_ARGUMENT;
    case TelemetryErrorCode.DEVICE_NOT_KNOWN_YET:
    case TelemetryErrorCode.BACKBONE_UNAVAILABLE:
    case TelemetryErrorCode.REGISTRY_UNAVAILABLE:
      return GrpcStatus.UNAVAILABLE;
    default:
      return assertNever(code);
  }
}

export function telemetryKafkaDisposition(code: TelemetryErrorCode): KafkaDisposition {
  switch (code) {
    case TelemetryErrorCode.DEVICE_NOT_KNOWN_YET:
    case TelemetryErrorCode.BACKBONE_UNAVAILABLE:
    case TelemetryErrorCode.REGISTRY_UNAVAILABLE:
      return 'retry';
    case TelemetryErrorCode.DEVICE_NOT_FOUND:
    case TelemetryErrorCode.DEVICE_NOT_AUTHENTICATED:
    case TelemetryErrorCode.DEVICE_NOT_ACTIVE:
    case TelemetryErrorCode.NOT_YOUR_DEVICE:
    case TelemetryErrorCode.QUOTA_EXCEEDED:
    case TelemetryErrorCode.PAYLOAD_INVALID:
    case TelemetryErrorCode.TOO_MANY_POINTS:
    case TelemetryErrorCode.QUERY_INVALID:
    case TelemetryErrorCode.RULE_NOT_FOUND:
    case TelemetryErrorCode.ALARM_NOT_FOUND:
    case TelemetryErrorCode.ALARM_TRANSITION_NOT_ALLOWED:
    case TelemetryErrorCode.COMMAND_NOT_FOUND:
    case TelemetryErrorCode.TENANT_NOT_FOUND:
    case TelemetryErrorCode.SELECTION_NOT_PERMITTED:
    case TelemetryErrorCode.MAINTENANCE_PROFILE_NOT_FOUND:
    case TelemetryErrorCode.HEALTH_NOT_FOUND:
    case TelemetryErrorCode.WORK_ORDER_NOT_FOUND:
    case TelemetryErrorCode.WORK_ORDER_CLOSED:
      return 'dead-letter';
    default:
      return assertNever(code);
  }
}

export class TelemetryError extends DomainError<TelemetryErrorCode> {
  httpStatus() {
    return telemetryHttpStatus(this.code);
  }
  grpcStatus() {
    return telemetryGrpcStatus(this.code);
  }
  kafkaDisposition() {
    return telemetryKafkaDisposition(this.code);
  }

  static deviceNotFound(id: string) {
    return new TelemetryError(TelemetryErrorCode.DEVICE_NOT_FOUND, `Device ${id} was not found`);
  }

  static tenantNotFound(id: string) {
    return new TelemetryError(TelemetryErrorCode.TENANT_NOT_FOUND, `Tenant ${id} was not found`);
  }

  static quotaExceeded(retryAfterSeconds: number, tenantId: string) {
    const err = new TelemetryError(
      TelemetryErrorCode.QUOTA_EXCEEDED,
      `Tenant ${tenantId} is over its telemetry quota (points per second); nothing of this request was accepted, send it again after ${Math.ceil(retryAfterSeconds)} s`,
    );
    err.retryAfterSeconds = retryAfterSeconds;
    return err;
  }
}
