import { FieldError, RequestValidationError } from '@iip/platform-errors';

/**
 * The fleet query language:
 *
 *   reported.temperature > 80 AND tags.line = 'L1' AND profile.category = 'pump'
 *   status IN ('active', 'suspended') AND NOT profile.ncCapable = true
 *   (profile.efficiencyGrade = 3 OR profile.commissionedOn < '2010-01-01') AND name ~ 'pump'
 *
 * Comparisons `= != < <= > >=`, `IN (…)`, `~` (name contains, case-insensitive), `EXISTS field`;
 * combined with AND, OR, NOT and parentheses. Values are 'strings' (with '' for a quote),
 * numbers, true and false. Compiled into SQL with every value a parameter: nothing a client
 * writes reaches the SQL text except through this grammar.
 */
export type Value = string | number | boolean;

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'end'; at: number };

const MAX_QUERY_LENGTH = 2000;
const MAX_TERMS = 32;

export class FleetQueryError extends RequestValidationError {
  constructor(message: string, field = 'q') {
    super([{ field, message } satisfies FieldError]);
  }
}

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= q.length) throw new FleetQueryError(`unterminated string starting at position ${i + 1}`);
        if (q[j] === "'") {
          if (q[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += q[j++];
      }
      tokens.push({ kind: 'string', value, at: i });
      i = j + 1;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(q.slice(i));
      if (!m) throw new FleetQueryError(`unexpected "${c}" at position ${i + 1}`);
      const value = Number(m[0]);
      if (!Number.isFinite(value)) throw new FleetQueryError(`number out of range at position ${i + 1}`);
      tokens.push({ kind: 'number', value, at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*/.exec(q.slice(i))?.[0] ?? c;
      tokens.push({ kind: 'word', text: word, at: i });
      i += word.length;
    } else {
      const m = /^(<=|>=|!=|=|<|>|~|\(|\)|,)/.exec(q.slice(i));
      if (!m) throw new FleetQueryError(`unexpected "${c}" at position ${i + 1}`);
      tokens.push({ kind: 'op', text: m[0], at: i });
      i += m[0].length;
    }
  }
  tokens.push({ kind: 'end', at: q.length });
  return tokens;
}

/** What a field compiles to: a typed SQL expression over `d` (devices) and `t` (twins). */
type FieldSql =
  | { type: 'text' | 'number' | 'boolean' | 'date' | 'uuid'; sql: string }
  | { type: 'json'; column: 't.reported' | 't.desired'; path: string[] }
  | { type: 'tag'; key: string };

const COLUMNS: Record<string, FieldSql> = {
  id: { type: 'uuid', sql: 'd.id' },
  tenantId: { type: 'uuid', sql: 'd.tenant_id' },
  name: { type: 'text', sql: 'd.name' },
  manufacturer: { type: 'text', sql: 'd.manufacturer' },
  serial: { type: 'text', sql: 'd.serial' },
  status: { type: 'text', sql: 'd.status' },
  handle: { type: 'text', sql: 'd.handle' },
  gatewayId: { type: 'uuid', sql: 'd.gateway_id' },
  'model.id': { type: 'uuid', sql: 'd.model_id' },
  'model.version': { type: 'number', sql: 'd.model_version' },
  'profile.category': { type: 'text', sql: 'd.category' },
  'profile.commissionedOn': { type: 'date', sql: 'd.commissioned_on' },
  'profile.ratedPowerKw': { type: 'number', sql: 'd.rated_power_kw' },
  'profile.efficiencyGrade': { type: 'number', sql: 'd.efficiency_grade' },
  'profile.ncCapable': { type: 'boolean', sql: 'd.nc_capable' },
  'profile.keyProcess': { type: 'boolean', sql: 'd.key_process' },
  'profile.criticality': { type: 'text', sql: 'd.criticality' },
  createdAt: { type: 'date', sql: 'd.created_at' },
};

export const GROUPABLE_FIELDS = [
  'status',
  'tenantId',
  'manufacturer',
  'model.id',
  'profile.category',
  'profile.efficiencyGrade',
  'profile.criticality',
] as const;

export function fieldSql(name: string): FieldSql {
  const column = COLUMNS[name];
  if (column) return column;
  const [head, ...rest] = name.split('.');
  if (head === 'tags' && rest.length === 1) return { type: 'tag', key: rest[0] };
  if ((head === 'reported' || head === 'desired') && rest.length >= 1 && rest.length <= 8)
    return { type: 'json', column: `t.${head}`, path: rest };
  throw new FleetQueryError(`unknown field "${name}" (device fields, profile.*, tags.<name>, reported.<path>, desired.<path>)`);
}

export interface CompiledQuery {
  /** A boolean SQL expression over `d` and `t`. */
  where: string;
  params: unknown[];
  /** The query reads twins: join them. */
  usesTwin: boolean;
}

/** Compiles `q`; parameters are numbered from `firstParam`. */
export function compileFleetQuery(q: string, firstParam: number): CompiledQuery {
  if (q.length > MAX_QUERY_LENGTH) throw new FleetQueryError(`is longer than ${MAX_QUERY_LENGTH} characters`);
  const tokens = tokenize(q);
  const params: unknown[] = [];
  let pos = 0;
  let terms = 0;
  let usesTwin = false;
  const param = (v: unknown, cast: string) => {
    params.push(v);
    return `$${firstParam + params.length - 1}::${cast}`;
  };
  const peek = () => tokens[pos];
  const isWord = (t: Token, w: string): boolean => t.kind === 'word' && t.text.toUpperCase() === w;
  const expectOp = (text: string) => {
    const t = tokens[pos];
    if (t.kind !== 'op' || t.text !== text) throw new FleetQueryError(`expected "${text}" at position ${t.at + 1}`);
    pos++;
  };
  const value = (): Value => {
    const t = tokens[pos++];
    if (t.kind === 'string' || t.kind === 'number') return t.value;
    if (t.kind === 'word' && (t.text === 'true' || t.text === 'false')) return t.text === 'true';
    throw new FleetQueryError(`expected a value ('text', a number, true or false) at position ${t.at + 1}`);
  };

  const comparison = (): string => {
    if (++terms > MAX_TERMS) throw new FleetQueryError(`has more than ${MAX_TERMS} comparisons`);
    if (isWord(peek(), 'EXISTS')) {
      pos++;
      const t = tokens[pos++];
      if (t.kind !== 'word') throw new FleetQueryError(`expected a field after EXISTS at position ${t.at + 1}`);
      const f = fieldSql(t.text);
      if (f.type === 'json') {
        usesTwin = true;
        return `(${f.column} #> ${param(f.path, 'text[]')}) IS NOT NULL`;
      }
      if (f.type === 'tag') return `d.tags ? ${param(f.key, 'text')}`;
      return `${f.sql} IS NOT NULL`;
    }
    const t = tokens[pos++];
    if (t.kind !== 'word') throw new FleetQueryError(`expected a field at position ${t.at + 1}`);
    const f = fieldSql(t.text);
    if (isWord(peek(), 'IN')) {
      pos++;
      expectOp('(');
      const values: Value[] = [value()];
      while (peek().kind === 'op' && (peek() as { text: string }).text === ',') {
        pos++;
        values.push(value());
        if (values.length > 100) throw new FleetQueryError('IN holds more than 100 values');
      }
      expectOp(')');
      return `(${values.map((v) => compare(f, '=', v, t.text)).join(' OR ')})`;
    }
    const op = tokens[pos++];
    if (op.kind !== 'op' || !['=', '!=', '<', '<=', '>', '>=', '~'].includes(op.text)) {
      throw new FleetQueryError(`expected a comparison (= != < <= > >= ~ IN) after ${t.text} at position ${op.at + 1}`);
    }
    return compare(f, op.text, value(), t.text);
  };

  const compare = (f: FieldSql, op: string, v: Value, name: string): string => {
    const sqlOp = op === '!=' ? '<>' : op;
    if (op === '~') {
      if (typeof v !== 'string' || f.type !== 'text') throw new FleetQueryError(`~ compares a text field with 'text' (${name})`);
      return `${f.sql} ILIKE ${param(`%${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, 'text')}`;
    }
    switch (f.type) {
      case 'json': {
        usesTwin = true;
        const at = `(${f.column} #> ${param(f.path, 'text[]')})`;
        const jsonType = typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
        // Same JSON type only: jsonb orders types against each other, which no one means here.
        return `(jsonb_typeof(${at}) = '${jsonType}' AND ${at} ${sqlOp} ${param(JSON.stringify(v), 'jsonb')})`;
      }
      case 'tag':
        if (typeof v !== 'string') throw new FleetQueryError(`tags hold text: compare ${name} with 'text'`);
        if (op === '=') return `d.tags @> ${param(JSON.stringify({ [f.key]: v }), 'jsonb')}`;
        return `(d.tags ->> ${param(f.key, 'text')}) ${sqlOp} ${param(v, 'text')}`;
      case 'number':
        if (typeof v !== 'number') throw new FleetQueryError(`${name} is a number`);
        return `${f.sql} ${sqlOp} ${param(v, 'numeric')}`;
      case 'boolean':
        if (typeof v !== 'boolean' || (op !== '=' && op !== '!=')) throw new FleetQueryError(`${name} is true or false (= or !=)`);
        return `${f.sql} ${sqlOp} ${param(v, 'boolean')}`;
      case 'date':
        if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) || Number.isNaN(Date.parse(v))) {
          throw new FleetQueryError(`${name} compares with a date, e.g. '2012-05-01'`);
        }
        return `${f.sql} ${sqlOp} ${param(v, 'timestamptz')}`;
      case 'uuid':
        if (
          typeof v !== 'string' ||
          !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v) ||
          (op !== '=' && op !== '!=')
        ) {
          throw new FleetQueryError(`${name} compares (= or !=) with a UUID in quotes`);
        }
        return `${f.sql} ${sqlOp} ${param(v, 'uuid')}`;
      case 'text':
        if (typeof v !== 'string') throw new FleetQueryError(`${name} is text: compare it with 'text'`);
        return `${f.sql} ${sqlOp} ${param(v, 'text')}`;
    }
  };

  const factor = (): string => {
    if (isWord(peek(), 'NOT')) {
      pos++;
      return `NOT (${factor()})`;
    }
    const t = peek();
    if (t.kind === 'op' && t.text === '(') {
      pos++;
      const inner = expr();
      expectOp(')');
      return `(${inner})`;
    }
    return comparison();
  };
  const term = (): string => {
    const parts = [factor()];
    while (isWord(peek(), 'AND')) {
      pos++;
      parts.push(factor());
    }
    return parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`;
  };
  const expr = (): string => {
    const parts = [term()];
    while (isWord(peek(), 'OR')) {
      pos++;
      parts.push(term());
    }
    return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  };

  if (tokens[0].kind === 'end') return { where: 'true', params, usesTwin };
  const where = expr();
  const rest = tokens[pos];
  if (rest.kind !== 'end')
    throw new FleetQueryError(
      `unexpected ${rest.kind === 'op' || rest.kind === 'word' ? `"${rest.text}"` : 'value'} at position ${rest.at + 1}`,
    );
  return { where, params, usesTwin };
}
