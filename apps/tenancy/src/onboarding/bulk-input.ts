import { parse } from 'csv-parse/sync';
import { FieldError, JsonTooDeepError, findUnsafeStrings, parseBoundedJson } from '@iip/platform-errors';

export const MAX_BULK_ROWS = 10_000;

export interface ParsedRow {
  line: number;
  input: Record<string, unknown> | null;
  parseError: string | null;
}

export class BulkInputError extends Error {}

/** Column names accepted in CSV, mapped onto the JSON row shape. */
const CSV_COLUMNS: Record<string, (row: Record<string, unknown>, value: string) => void> = {
  kind: (r, v) => (r.kind = v),
  name: (r, v) => (r.name = v),
  creditCode: (r, v) => (r.creditCode = v),
  contactName: (r, v) => setNested(r, 'contact', 'name', v),
  contactEmail: (r, v) => setNested(r, 'contact', 'email', v),
  contactPhone: (r, v) => setNested(r, 'contact', 'phone', v),
  maxDevices: (r, v) => setNested(r, 'quotas', 'maxDevices', toNumber(v)),
  maxTelemetryPointsPerSecond: (r, v) => setNested(r, 'quotas', 'maxTelemetryPointsPerSecond', toNumber(v)),
};

function setNested(row: Record<string, unknown>, key: string, field: string, value: unknown) {
  if (value === '' || value === undefined) return;
  const obj = (row[key] ??= {}) as Record<string, unknown>;
  obj[field] = value;
}

function toNumber(v: string): number | string {
  return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
}

/** One JSON object per line; blank lines are skipped; a bad line fails alone. */
export function parseNdjson(body: string): ParsedRow[] {
  const rows: ParsedRow[] = [];
  const lines = body.split(/\r?\n/);
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    try {
      const value = parseBoundedJson(text);
      let unsafe: FieldError[];
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        rows.push({ line: i + 1, input: null, parseError: 'the line is not a JSON object' });
      } else if ((unsafe = findUnsafeStrings(value, '')).length > 0) {
        // JSON escapes (\u0000, \ud800) only become those characters here, after the request-level check.
        rows.push({ line: i + 1, input: null, parseError: unsafe.map((u) => `${u.field} ${u.message}`).join('; ') });
      } else {
        rows.push({ line: i + 1, input: value as Record<string, unknown>, parseError: null });
      }
    } catch (err) {
      rows.push({ line: i + 1, input: null, parseError: err instanceof JsonTooDeepError ? err.message : 'the line is not valid JSON' });
    }
  });
  return checkCount(rows);
}

/** A header row naming the columns, then one tenant per row. */
export function parseCsv(body: string): ParsedRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info: true` each record comes with its position, which the row results report.
    records = parse(body, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      max_record_size: 64 * 1024,
    }) as unknown as typeof records;
  } catch (err) {
    throw new BulkInputError(`The CSV cannot be read: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new BulkInputError('The CSV is empty');
  const header = records[0].record;
  const unknown = header.filter((h) => !(h in CSV_COLUMNS));
  if (unknown.length > 0)
    throw new BulkInputError(`Unknown CSV columns: ${unknown.join(', ')}; expected some of ${Object.keys(CSV_COLUMNS).join(', ')}`);
  const rows = records.slice(1).map(({ record, info }): ParsedRow => {
    if (record.length !== header.length) {
      return { line: info.lines, input: null, parseError: `expected ${header.length} columns, found ${record.length}` };
    }
    const input: Record<string, unknown> = {};
    header.forEach((column, i) => CSV_COLUMNS[column](input, record[i]));
    return { line: info.lines, input, parseError: null };
  });
  return checkCount(rows);
}

function checkCount(rows: ParsedRow[]): ParsedRow[] {
  if (rows.length === 0) throw new BulkInputError('The input has no rows');
  if (rows.length > MAX_BULK_ROWS) throw new BulkInputError(`At most ${MAX_BULK_ROWS} rows per job; this input has ${rows.length}`);
  return rows;
}
