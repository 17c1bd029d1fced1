import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { IdentifierV1 } from '@iip/contracts';
import { flattenValidationErrors } from '@iip/platform-errors';
import { isHandleSyntaxError, parseHandle, ParsedHandle } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { HandleValueDto } from '../identifiers/dto/handle-value.dto';

/** gRPC values → the same DTOs, checked by the same rules, as the REST API's. */
export function valuesFromGrpc(input: IdentifierV1.HandleValueInput[]): HandleValueDto[] {
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
  const dtos = plainToInstance(HandleValueDto, plain);
  const errors = dtos.flatMap((dto, i) =>
    flattenValidationErrors(validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }), `values.${i}`),
  );
  if (errors.length > 0)
    throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return dtos;
}

export function handleFromGrpc(input: string): ParsedHandle {
  const parsed = parseHandle(input);
  if (isHandleSyntaxError(parsed)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, parsed.message);
  return parsed;
}

export function templateFromGrpc(ref: IdentifierV1.TemplateRef | undefined): { kind: string; version?: number } | undefined {
  return ref?.kind ? { kind: ref.kind, ...(ref.version ? { version: ref.version } : {}) } : undefined;
}
