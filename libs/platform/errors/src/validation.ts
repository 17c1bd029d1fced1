import { Observable } from 'rxjs';
import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { FieldError } from './problem';

/** Thrown by the validation pipe; carries one entry per bad field. */
export class RequestValidationError extends BadRequestException {
  constructor(readonly fieldErrors: FieldError[]) {
    super('The request has invalid fields');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID field of a message that has no schema of its own (gRPC), lower-cased; a 400 / INVALID_ARGUMENT naming the field otherwise. */
export function uuidField(value: string, field: string): string {
  if (!UUID.test(value)) throw new RequestValidationError([{ field, message: 'must be a UUID' }]);
  return value.toLowerCase();
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      // class-validator words unknown properties as "property x should not exist".
      out.push({
        field: field === 'undefined' ? '(body)' : field,
        message: message.replace(/^property (\S+) should not exist$/, 'is not a known field'),
      });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

/**
 * Validates DTO classes only. gRPC handlers also receive call metadata and generated message
 * types (ts-proto emits a same-named object, not a class, as their runtime value); both are left alone.
 */
class DtoValidationPipe extends ValidationPipe {
  protected override toValidate(metadata: ArgumentMetadata): boolean {
    return (
      typeof metadata.metatype === 'function' &&
      metadata.metatype !== Metadata &&
      // A streaming gRPC handler gets the stream of messages itself.
      metadata.metatype !== Observable &&
      super.toValidate(metadata)
    );
  }
}

/** Rejects unknown fields and lists every bad one. */
export function strictValidationPipe(): ValidationPipe {
  return new DtoValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
