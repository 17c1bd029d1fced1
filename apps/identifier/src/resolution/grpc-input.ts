import { IdentifierV1 } from '@iip/contracts';
import { RequestValidationError, jsonDepthExceeds } from '@iip/platform-errors';
import { isHandleSyntaxError, parseHandle, ParsedHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { HandleValueInput, INT32_MAX, handleValuesSchema } from '../identifiers/dto/handle-value.schema';
import { MAX_VALUE_DEPTH } from '../identifiers/values';

/** gRPC values → the same shapes, checked by the same schema, as the REST API's. */
export function valuesFromGrpc(input: IdentifierV1.HandleValueInput[]): HandleValueInput[] {
  if (input.length === 0 || input.length > 500) throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'Send 1 to 500 values');
  const plain = input.map((v) => {
    let value: unknown;
    // Bounded before parsing, like a REST body: the rules after it walk the value.
    if (jsonDepthExceeds(v.valueJson, MAX_VALUE_DEPTH)) {
      throw new IdentifierError(
        IdentifierErrorCode.INVALID_VALUE,
        `Value ${v.index}: value_json is nested deeper than ${MAX_VALUE_DEPTH} levels`,
      );
    }
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
  if (ref && ref.version < 0)
    throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, 'template.version must be 1 or more (0: the latest)');
  return ref?.kind ? { kind: ref.kind, ...(ref.version ? { version: ref.version } : {}) } : undefined;
}

/** An expected_version as gRPC carries it: 0 for none, else the version read (an int32, so never past the column). */
export function expectedVersionFromGrpc(version: number): number | undefined {
  if (!Number.isInteger(version) || version < 0 || version > INT32_MAX) {
    throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `expected_version must be 1 to ${INT32_MAX} (0: any)`);
  }
  return version || undefined;
}
