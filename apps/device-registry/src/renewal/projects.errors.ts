import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, KafkaDisposition, assertNever } from '@iip/platform-errors';

/** What renewal projects and replacements refuse. */
export enum RenewalProjectErrorCode {
  PROJECT_NOT_FOUND = 'PROJECT_NOT_FOUND',
  /** Not the next step of planned → approved → procured → installed → verified. */
  PROJECT_TRANSITION_NOT_ALLOWED = 'PROJECT_TRANSITION_NOT_ALLOWED',
  /** The change does not fit the project's status (a verified project is closed; spending is recorded from installed on). */
  PROJECT_STATE_CONFLICT = 'PROJECT_STATE_CONFLICT',
  PROJECT_VERSION_CONFLICT = 'PROJECT_VERSION_CONFLICT',
  /** A device already renewed by another project. */
  DEVICE_IN_ANOTHER_PROJECT = 'DEVICE_IN_ANOTHER_PROJECT',
  /** A device or model the project cannot hold (not in the tenant's subtree, decommissioned, not usable). */
  PROJECT_INPUT_INVALID = 'PROJECT_INPUT_INVALID',
  /** The replacement does not fit the project: an old device it does not renew, a new device of a model it does not name. */
  REPLACEMENT_INVALID = 'REPLACEMENT_INVALID',
  /** One of the devices is already linked by another replacement. */
  REPLACEMENT_CONFLICT = 'REPLACEMENT_CONFLICT',
  /** A park reading a member's project may not change it. */
  PROJECT_READ_ONLY = 'PROJECT_READ_ONLY',
}

export function renewalProjectHttpStatus(code: RenewalProjectErrorCode): number {
  switch (code) {
    case RenewalProjectErrorCode.PROJECT_NOT_FOUND:
      return 404;
    case RenewalProjectErrorCode.PROJECT_TRANSITION_NOT_ALLOWED:
    case RenewalProjectErrorCode.PROJECT_STATE_CONFLICT:
    case RenewalProjectErrorCode.PROJECT_VERSION_CONFLICT:
    case RenewalProjectErrorCode.DEVICE_IN_ANOTHER_PROJECT:
    case RenewalProjectErrorCode.REPLACEMENT_CONFLICT:
      return 409;
    case RenewalProjectErrorCode.PROJECT_INPUT_INVALID:
    case RenewalProjectErrorCode.REPLACEMENT_INVALID:
      return 422;
    case RenewalProjectErrorCode.PROJECT_READ_ONLY:
      return 403;
    default:
      return assertNever(code);
  }
}

export function renewalProjectGrpcStatus(code: RenewalProjectErrorCode): GrpcStatus {
  switch (code) {
    case RenewalProjectErrorCode.PROJECT_NOT_FOUND:
      return GrpcStatus.NOT_FOUND;
    case RenewalProjectErrorCode.PROJECT_VERSION_CONFLICT:
      return GrpcStatus.ABORTED;
    case RenewalProjectErrorCode.PROJECT_TRANSITION_NOT_ALLOWED:
    case RenewalProjectErrorCode.PROJECT_STATE_CONFLICT:
    case RenewalProjectErrorCode.PROJECT_INPUT_INVALID:
    case RenewalProjectErrorCode.REPLACEMENT_INVALID:
      return GrpcStatus.FAILED_PRECONDITION;
    case RenewalProjectErrorCode.DEVICE_IN_ANOTHER_PROJECT:
    case RenewalProjectErrorCode.REPLACEMENT_CONFLICT:
      return GrpcStatus.ALREADY_EXISTS;
    case RenewalProjectErrorCode.PROJECT_READ_ONLY:
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return assertNever(code);
  }
}

export function renewalProjectKafkaDisposition(code: RenewalProjectErrorCode): KafkaDisposition {
  switch (code) {
    case RenewalProjectErrorCode.PROJECT_VERSION_CONFLICT:
      return 'retry';
    case RenewalProjectErrorCode.PROJECT_NOT_FOUND:
    case RenewalProjectErrorCode.PROJECT_TRANSITION_NOT_ALLOWED:
    case RenewalProjectErrorCode.PROJECT_STATE_CONFLICT:
    case RenewalProjectErrorCode.DEVICE_IN_ANOTHER_PROJECT:
    case RenewalProjectErrorCode.PROJECT_INPUT_INVALID:
    case RenewalProjectErrorCode.REPLACEMENT_INVALID:
    case RenewalProjectErrorCode.REPLACEMENT_CONFLICT:
    case RenewalProjectErrorCode.PROJECT_READ_ONLY:
      return 'dead-letter';
    default:
      return assertNever(code);
  }
}

export class RenewalProjectError extends DomainError<RenewalProjectErrorCode> {
  httpStatus() {
    return renewalProjectHttpStatus(this.code);
  }
  grpcStatus() {
    return renewalProjectGrpcStatus(this.code);
  }
  kafkaDisposition() {
    return renewalProjectKafkaDisposition(this.code);
  }

  static notFound(id: string) {
    return new RenewalProjectError(RenewalProjectErrorCode.PROJECT_NOT_FOUND, `Renewal project ${id} was not found`);
  }
}
