import { Injectable } from '@nestjs/common';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Principal } from '@iip/platform-auth';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { UnsupportedPatternError, linearRegExp } from './linear-patterns';
import { TEMPLATE_KIND_PATTERN, TemplateEntity } from './template.entity';
import { TemplatesRepository } from './templates.repository';

/** Templates are JSON Schema draft 2020-12; a `$schema` naming another draft is refused. */
export const TEMPLATE_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
/** Largest template accepted, as JSON text. */
export const MAX_TEMPLATE_SCHEMA_BYTES = 64 * 1024;
/** Violations named in an error (message and details); the rest are counted. */
export const MAX_REPORTED_VIOLATIONS = 20;
/** Handle value types, as HandleValueDto accepts them. */
const VALUE_TYPE_PATTERN = /^[\p{L}\p{N}_.\-/:]+$/u;
/** Written by the server on every record, so not the client's to describe or send. */
const SERVER_VALUE_TYPES: ReadonlySet<string> = new Set(['HS_ADMIN']);

/** A Handle value as far as templates look at it (HandleValueDto fits). */
export interface TemplatedValue {
  index: number;
  type: string;
  data: { format: string; value: unknown };
}

export type TemplateRef = Pick<TemplateEntity, 'kind' | 'version' | 'schema'>;

/** One way the values break a template. `pointer` is a JSON Pointer into the validated object. */
export interface TemplateViolation {
  pointer: string;
  message: string;
  /** The Handle value the violation is about, when it is about one. */
  index?: number;
}

/**
 * THE SHAPE A TEMPLATE VALIDATES. A template's schema does not see the Handle values array
 * as sent; it sees one JSON object keyed by value TYPE whose property is that value's
 * `data.value` (the value's format, ttl, access and index are not part of it):
 *
 *   values [{index:1,type:'SERIAL',data:{format:'string',value:'SN-1'}},
 *           {index:2,type:'MODEL', data:{format:'string',value:'P-100'}},
 *           {index:3,type:'URL',   data:{format:'string',value:'https://example.com/p'}}]
 *   are validated as { "SERIAL": "SN-1", "MODEL": "P-100", "URL": "https://example.com/p" }
 *
 * so a template for kind "device" reads
 *   {"type":"object","required":["SERIAL","MODEL"],
 *    "properties":{"SERIAL":{"type":"string","pattern":"^SN-"},"MODEL":{"type":"string"},
 *                  "URL":{"type":"string","format":"uri"}}}
 *
 * - When several values share a type, that type's property is an ARRAY of their data.value in
 *   index order (`{"SERIAL": ["SN-1", "SN-2"]}`). A template that allows one or many says so:
 *   `{"anyOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]}`; one that says
 *   `{"type":"string"}` thereby allows a single value of the type.
 * - Structured formats (admin, vlist, site, key) contribute their value object as is.
 * - HS_ADMIN is left out: the server writes it on every record. Every other type is in, so a
 *   template with `"additionalProperties": false` lists every type a record may carry.
 *
 * Schemas compile under Ajv's strict mode (unknown keywords, formats and ignored keywords are
 * errors; `required` names must be in `properties`) with every error reported and the
 * ajv-formats formats. `pattern` and `patternProperties` run on RE2 (linear time): a pattern
 * with lookaround or backreferences is refused when the template is stored, and `\s` and `.`
 * follow RE2 (ASCII whitespace; anything but a newline). The root must be `"type": "object"` and property names must be value types.
 */
export function templatedObject(values: readonly TemplatedValue[]): Record<string, unknown> {
  const byType = new Map<string, unknown[]>();
  for (const v of [...values].sort((a, b) => a.index - b.index)) {
    if (SERVER_VALUE_TYPES.has(v.type)) continue;
    const list = byType.get(v.type);
    if (list) list.push(v.data.value);
    else byType.set(v.type, [v.data.value]);
  }
  // fromEntries defines own properties, so a type named "__proto__" is just a key.
  return Object.fromEntries([...byType].map(([type, list]) => [type, list.length === 1 ? list[0] : list]));
}

/**
 * Identifier templates: per identifier kind, versioned JSON Schemas over an identifier's values.
 * Chosen at registration; values that break the chosen template are rejected. Versions are
 * immutable, so compiled validators are cached for the life of the process.
 */
@Injectable()
export class TemplatesService {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly templates: TemplatesRepository) {}

  /** The platform operator adds a kind's next template version. */
  async create(actor: Principal, kind: string, schema: object): Promise<TemplateEntity> {
    if (actor.tenant.kind !== 'platform') {
      throw new IdentifierError(IdentifierErrorCode.PREFIX_NOT_OWNED, 'Only the platform operator manages templates');
    }
    if (!TEMPLATE_KIND_PATTERN.test(kind)) {
      throw new IdentifierError(
        IdentifierErrorCode.INVALID_VALUE,
        `Template kind "${kind}" must be a lower-case letter followed by up to 39 lower-case letters, digits or hyphens`,
      );
    }
    const checked = checkTemplateShape(schema);
    let validate: ValidateFunction;
    try {
      validate = compile(checked);
    } catch (err) {
      if (err instanceof UnsupportedPatternError) {
        throw new IdentifierError(
          IdentifierErrorCode.INVALID_VALUE,
          `Template schema does not compile: ${err.message}; patterns are matched by RE2, in time linear in the input: ` +
            'no lookahead, lookbehind or backreferences, repeats up to {1000}',
          { pattern: err.pattern },
        );
      }
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Template schema does not compile: ${errorMessage(err)}`);
    }
    const row = await this.templates.insertNextVersion(kind, checked);
    this.validators.set(cacheKey(row), validate);
    return row;
  }

  /** A kind's template at a version, or its latest. */
  async resolve(kind: string, version?: number): Promise<TemplateEntity> {
    const row = await this.templates.find(kind, version);
    if (!row) {
      throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Unknown template ${kind}@${version ?? 'latest'}`);
    }
    return row;
  }

  list(): Promise<TemplateEntity[]> {
    return this.templates.list();
  }

  /** Throws INVALID_VALUE naming each violation (up to 20) unless the values satisfy the template. */
  validate(template: TemplateRef, values: readonly TemplatedValue[]): void {
    const validate = this.validator(template);
    const subject = templatedObject(values);
    if (validate(subject)) return;
    const violations = (validate.errors ?? []).map((e) => violation(e, values));
    const reported = violations.slice(0, MAX_REPORTED_VIOLATIONS);
    const more = violations.length - reported.length;
    const listed = reported.map((v) => `${v.pointer || '(root)'}: ${v.message}`).join('; ');
    throw new IdentifierError(
      IdentifierErrorCode.INVALID_VALUE,
      `Values do not match template ${cacheKey(template)}: ${listed}${more > 0 ? `; and ${more} more` : ''}`,
      { template: cacheKey(template), errors: reported },
    );
  }

  private validator(template: TemplateRef): ValidateFunction {
    const key = cacheKey(template);
    let validate = this.validators.get(key);
    if (!validate) {
      try {
        validate = compile(template.schema);
      } catch (err) {
        // Accepted when created: a validator upgrade or a hand-edited row, not the caller's fault.
        throw new IdentifierError(
          IdentifierErrorCode.TEMPLATE_UNUSABLE,
          `Template ${key} was stored under older rules and cannot be applied (${errorMessage(err)}); store a new version`,
        );
      }
      this.validators.set(key, validate);
    }
    return validate;
  }
}

function cacheKey(t: Pick<TemplateEntity, 'kind' | 'version'>): string {
  return `${t.kind}@${t.version}`;
}

/**
 * A fresh Ajv per template: schemas may carry `$id`s, which one shared instance would refuse
 * to register twice. Compiling happens once per template version per process.
 */
function compile(schema: Record<string, unknown>): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, code: { regExp: linearRegExp } });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** Checks a template describes the values object (see templatedObject) before it is compiled. */
function checkTemplateShape(schema: object): Record<string, unknown> {
  const invalid = (message: string) => new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `Template schema ${message}`);
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw invalid('must be a JSON object');
  const s = schema as Record<string, unknown>;
  if (Buffer.byteLength(JSON.stringify(s)) > MAX_TEMPLATE_SCHEMA_BYTES) {
    throw invalid(`is larger than ${MAX_TEMPLATE_SCHEMA_BYTES} bytes`);
  }
  if (s.$schema !== undefined && s.$schema !== TEMPLATE_SCHEMA_DIALECT) {
    throw invalid(`must be JSON Schema draft 2020-12 ("$schema": "${TEMPLATE_SCHEMA_DIALECT}" or no $schema)`);
  }
  if (s.$async !== undefined) throw invalid('must not be asynchronous ($async)');
  if (s.type !== 'object') throw invalid('must have "type": "object": it describes the values keyed by value type');
  const names: unknown[] = [];
  if (s.properties !== undefined) {
    if (s.properties === null || typeof s.properties !== 'object' || Array.isArray(s.properties)) {
      throw invalid('"properties" must be an object');
    }
    names.push(...Object.keys(s.properties));
  }
  if (Array.isArray(s.required)) names.push(...(s.required as unknown[]));
  for (const name of names) {
    if (typeof name !== 'string' || !VALUE_TYPE_PATTERN.test(name) || name.length > 128) {
      throw invalid(`names ${JSON.stringify(name)}, which is not a value type (letters, digits and _ . - / : only, up to 128)`);
    }
    if (SERVER_VALUE_TYPES.has(name)) throw invalid(`names ${name}, which the server writes itself`);
  }
  return s;
}

/** An Ajv error as a violation: about the missing or unexpected type itself where there is one. */
function violation(e: ErrorObject, values: readonly TemplatedValue[]): TemplateViolation {
  let pointer = e.instancePath;
  let message = e.message ?? e.keyword;
  const params = e.params as { missingProperty?: unknown; additionalProperty?: unknown; propertyName?: unknown };
  if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
    pointer = `${pointer}/${escapePointer(params.missingProperty)}`;
    message = 'is required';
  } else if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    pointer = `${pointer}/${escapePointer(params.additionalProperty)}`;
    message = 'is not allowed by the template';
  }
  const index = valueIndex(pointer, values);
  return index === undefined ? { pointer, message } : { pointer, message, index };
}

/** The Handle value a pointer lands in: /TYPE for a lone value, /TYPE/n for the n-th of several. */
function valueIndex(pointer: string, values: readonly TemplatedValue[]): number | undefined {
  const [, first, second] = pointer.split('/');
  if (first === undefined) return undefined;
  const type = unescapePointer(first);
  const ofType = values
    .filter((v) => v.type === type)
    .map((v) => v.index)
    .sort((a, b) => a - b);
  if (ofType.length === 1) return ofType[0];
  if (ofType.length > 1 && second !== undefined && /^\d+$/.test(second)) return ofType[Number(second)];
  return undefined;
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
