import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { INPUT_LIMITS, RequestValidationError, unsafeStringReason } from '@iip/platform-errors';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** `?limit=&cursor=` for every list endpoint. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  // Decimal digits only: Number() would also read "0x10", "1e2" or " 7 ".
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page (nextCursor)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not a cursor this API issued' })
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;

export function encodeCursor(values: (string | number)[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** What one position of a cursor holds; each is checked strictly so nothing unexpected reaches SQL. */
export type CursorPart = 'timestamp' | 'uuid' | 'key' | 'int';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_KEY_LENGTH = 2048;

function partOk(part: CursorPart, v: unknown): boolean {
  switch (part) {
    case 'timestamp':
      // Only what encodeCursor wrote from a Date: the canonical ISO form, round-tripping exactly.
      return typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;
    case 'uuid':
      return typeof v === 'string' && UUID.test(v);
    case 'key':
      return typeof v === 'string' && v.length > 0 && v.length <= MAX_KEY_LENGTH && unsafeStringReason(v) === undefined;
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= INPUT_LIMITS.int32Max;
  }
}

/**
 * Decodes a cursor issued by encodeCursor whose positions hold `shape`, or undefined when it is
 * not one: wrong encoding, wrong length, or a value of the wrong kind.
 */
export function decodeCursor(cursor: string, shape: readonly CursorPart[]): (string | number)[] | undefined {
  if (cursor.length === 0 || cursor.length > 4 * MAX_KEY_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(values) || values.length !== shape.length) return undefined;
  return shape.every((part, i) => partOk(part, values[i])) ? (values as (string | number)[]) : undefined;
}

/** decodeCursor for a request's `cursor` parameter: a bad one is a 400 (INVALID_ARGUMENT) naming it. */
export function readCursor(cursor: string, shape: readonly CursorPart[], field = 'cursor'): (string | number)[] {
  const values = decodeCursor(cursor, shape);
  if (!values) throw new RequestValidationError([{ field, message: 'is not a cursor this API issued (pass nextCursor unchanged)' }]);
  return values;
}

/**
 * Keyset pagination over rows fetched with `limit + 1`: the first `limit` rows, and a cursor
 * (made of the last row's sort key) when there is more.
 */
export function pageOf<R>(rows: R[], limit: number, sortKey: (row: R) => (string | number)[]): { rows: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(sortKey(last)) : null };
}
