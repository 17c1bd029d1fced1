import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { JsonTooDeepError, findUnsafeStrings, parseBoundedJson } from '@iip/platform-errors';

export const IMPORT_MEDIA_TYPES = ['application/x-ndjson', 'text/csv'];

export interface ImportRow {
  /** 1-based line (NDJSON) or record (CSV, after the header) number. */
  line: number;
  input: Record<string, unknown> | null;
  parseError: string | null;
}

export class ImportInputError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 = 400,
  ) {
    super(message);
  }
}

/** CSV columns, onto the JSON row shape of POST /v1/devices. `tags` is `name=value;name=value`. */
const CSV_COLUMNS: Record<string, (row: Record<string, unknown>, value: string) => void> = {
  name: (r, v) => (r.name = v),
  manufacturer: (r, v) => (r.manufacturer = v),
  serial: (r, v) => (r.serial = v),
  modelId: (r, v) => nested(r, 'model', 'id', v),
  modelVersion: (r, v) => nested(r, 'model', 'version', integer(v)),
  status: (r, v) => v && (r.status = v),
  gatewayId: (r, v) => v && (r.gatewayId = v),
  category: (r, v) => nested(r, 'profile', 'category', v),
  commissionedOn: (r, v) => nested(r, 'profile', 'commissionedOn', v),
  ratedPowerKw: (r, v) => nested(r, 'profile', 'ratedPowerKw', v === '' ? v : Number.isNaN(Number(v)) ? v : Number(v)),
  efficiencyGrade: (r, v) => nested(r, 'profile', 'efficiencyGrade', integer(v)),
  ncCapable: (r, v) => nested(r, 'profile', 'ncCapable', bool(v)),
  keyProcess: (r, v) => nested(r, 'profile', 'keyProcess', bool(v)),
  criticality: (r, v) => nested(r, 'profile', 'criticality', v),
  tags: (r, v) => {
    if (!v) return;
    r.tags = Object.fromEntries(v.split(';').map((pair) => [pair.split('=')[0], pair.split('=').slice(1).join('=')]));
  },
};

function nested(row: Record<string, unknown>, key: string, field: string, value: unknown) {
  if (value === '' || value === undefined) return;
  ((row[key] ??= {}) as Record<string, unknown>)[field] = value;
}
const integer = (v: string) => (/^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v);
const bool = (v: string) => (v === 'true' ? true : v === 'false' ? false : v);

/**
 * Reads an upload as rows, without holding it whole: NDJSON (one object per line) or CSV (a
 * header naming the columns). A bad row fails alone; more than `maxRows` rows or `maxBytes`
 * bytes refuses the upload.
 */
export async function* readImport(
  body: Readable,
  mediaType: string,
  limits: { maxRows: number; maxBytes: number },
): AsyncGenerator<ImportRow> {
  let bytes = 0;
  const counted = body.map((chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limits.maxBytes) throw new ImportInputError(`The upload is larger than ${limits.maxBytes} bytes`, 413);
    return chunk;
  });
  let rows = 0;
  const count = () => {
    if (++rows > limits.maxRows) throw new ImportInputError(`The upload has more than ${limits.maxRows} rows`, 413);
  };
  if (mediaType === 'text/csv') {
    let header: string[] | undefined;
    const parser = counted.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, max_record_size: 65_536 }));
    let line = 0;
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        if (!header) {
          header = record.map((h) => h.trim());
          const unknown = header.filter((h) => !CSV_COLUMNS[h]);
          if (unknown.length)
            throw new ImportInputError(`Unknown CSV columns: ${unknown.join(', ')} (known: ${Object.keys(CSV_COLUMNS).join(', ')})`);
          continue;
        }
        count();
        line++;
        const input: Record<string, unknown> = {};
        header.forEach((h, i) => CSV_COLUMNS[h](input, record[i] ?? ''));
        const unsafe = findUnsafeStrings(input, '');
        yield unsafe.length
          ? { line, input: null, parseError: unsafe.map((u) => `${u.field} ${u.message}`).join('; ') }
          : { line, input, parseError: null };
      }
    } catch (err) {
      if (err instanceof ImportInputError) throw err;
      throw new ImportInputError(`The CSV cannot be read: ${(err as Error).message}`);
    }
    if (!header) throw new ImportInputError('The CSV has no header row');
    return;
  }
  let pending = '';
  let line = 0;
  // A chunk may end inside a multi-byte character: the decoder keeps it for the next one.
  const decoder = new StringDecoder('utf8');
  const parseLine = (text: string): ImportRow | undefined => {
    line++;
    if (text.trim() === '') return undefined;
    count();
    if (text.length > 65_536) return { line, input: null, parseError: 'the line is longer than 64 KiB' };
    try {
      const value = parseBoundedJson(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return { line, input: null, parseError: 'the line is not a JSON object' };
      const unsafe = findUnsafeStrings(value, '');
      if (unsafe.length) return { line, input: null, parseError: unsafe.map((u) => `${u.field} ${u.message}`).join('; ') };
      return { line, input: value as Record<string, unknown>, parseError: null };
    } catch (err) {
      return { line, input: null, parseError: err instanceof JsonTooDeepError ? err.message : 'the line is not valid JSON' };
    }
  };
  for await (const chunk of counted) {
    pending += decoder.write(chunk as Buffer);
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    if (pending.length > 1_048_576) throw new ImportInputError(`Line ${line + 1} is longer than 1 MiB`);
    for (const text of lines) {
      const row = parseLine(text.replace(/\r$/, ''));
      if (row) yield row;
    }
  }
  pending += decoder.end();
  const last = parseLine(pending.replace(/\r$/, ''));
  if (last) yield last;
}
