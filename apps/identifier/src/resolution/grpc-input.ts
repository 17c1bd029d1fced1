import { IdentifierV1 } from '@iip/contracts';
import { RequestValidationError } from '@iip/platform-errors';
import { isHandleSyntaxError, parseHandle, ParsedHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { HandleValueInput, handleValuesSchema } from '../identifiers/dto/handle-value.schema';

/** gRPC values → the same shapes, checked by the same schema, as the REST API's. */
export function valuesFromGrpc(input: IdentifierV1.HandleValueInput[]): HandleValueInput[] {
  if (input.length === 0 || input.length > 500) throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'Send 1 to 500 values');
  const plain = input.map((v) => {
    let value: unknown;
    try {
      value = JSON.parse(v.valueJson) as unknown;
    } catch {
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Value ${v.index}: value_json is not JSON`);
    }
    return {
      index: v.index,
      type: v.type,
      data: { format: v.format, value },
      ...(v.ttl ? { ttl: v.ttl } : {}),
      ...(v.access ? { access: v.access } : {}),
      ...(v.grantees.length ? { grantees: v.grantees } : {}),
    };
  });
  try {
    return handleValuesSchema.check(plain, 'values');
  } catch (err) {
    if (!(err instanceof RequestValidationError)) throw err;
    throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, err.fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; '));
  }
}

export function handleFromGrpc(input: string): ParsedHandle {
  const parsed = parseHandle(input);
  if (isHandleSyntaxError(parsed)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, parsed.message);
  return parsed;
}

export function templateFromGrpc(ref: IdentifierV1.TemplateRef | undefined): { kind: string; version?: number } | undefined {
  return ref?.kind ? { kind: ref.kind, ...(ref.version ? { version: ref.version } : {}) } : undefined;
}
