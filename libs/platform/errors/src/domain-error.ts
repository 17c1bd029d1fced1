import { status as GrpcStatus } from '@grpc/grpc-js';

/** What a Kafka consumer does with a message whose handling failed with this error. */
export type KafkaDisposition = 'retry' | 'dead-letter';

/**
 * Base of every domain error. A domain defines a code enum and one exhaustive mapper per
 * transport; the subclass wires its mappers in, so a new code that is not mapped fails to
 * compile in the domain's mapper, not at run time.
 */
export abstract class DomainError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** When the same request may succeed again (over a quota, busy): HTTP answers carry it as Retry-After. */
  retryAfterSeconds?: number;

  abstract httpStatus(): number;
  abstract grpcStatus(): GrpcStatus;
  abstract kafkaDisposition(): KafkaDisposition;
}

/** Narrows to a domain error with a string code (`instanceof` alone yields `DomainError<any>`). */
export function isDomainError(err: unknown): err is DomainError<string> {
  return err instanceof DomainError;
}

/** Fails to compile when a switch over a code enum misses a member. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
