import { Metadata, ServiceError, credentials, loadPackageDefinition, status as GrpcStatus } from '@grpc/grpc-js';
import type { GrpcObject, ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';

/**
 * The platform's bad-input table, run by each service's e2e suite over ALL of its routes: the
 * REST routes come from the service's own OpenAPI document, the gRPC methods from its protos,
 * so a route added tomorrow is covered without anyone listing it. Every answer must be a clear
 * 4xx (problem+json, or the route's standard error shape) or a gRPC INVALID_ARGUMENT — never a
 * 5xx, INTERNAL, a hang or a reset connection.
 */
export interface BadInputTarget {
  httpUrl: string;
  /** A token that passes authentication and scope checks on every route. */
  token: string;
  /**
   * Values for path parameters, by name or by route and name (real ones let a check reach past
   * "not found"); others get a random UUID.
   */
  pathParams?: Record<string, string> | ((path: string, name: string) => string | undefined);
  /** The JSON body limit of the service, in bytes (the size case sends more). */
  maxJsonBytes: number;
  /** Routes whose errors keep another standard's JSON shape (e.g. the Handle API's `responseCode`). */
  standardErrorShape?: (path: string) => boolean;
  openApiPath?: string;
  grpc?: { url: string; protoRoot: string; protoFiles: string[] };
}

export interface BadInputFinding {
  route: string;
  input: string;
  got: string;
}

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  /** A JSON body built from the schema, when the route takes one. */
  body?: { sample: Record<string, unknown>; strings: string[]; integers: string[] };
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
  error?: string;
}

const PROBLEM_JSON = /^application\/problem\+json/;

/** Sends a request and reads the answer; a reset or a timeout is an answer too (status 0). */
function send(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method, headers, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', (err) => resolve({ status: 0, contentType: '', body: '', error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', (err) => resolve({ status: 0, contentType: '', body: '', error: err.message }));
    req.end(body);
  });
}

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  enum?: unknown[];
  format?: string;
};
type OpenApi = {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>
  >;
  components?: { schemas?: Record<string, Schema> };
};

/** A body that fits the schema's shape, with the paths of its string and integer fields. */
function sampleBody(doc: OpenApi, schema: Schema): Operation['body'] {
  const strings: string[] = [];
  const integers: string[] = [];
  const resolve = (s: Schema): Schema => {
    if (s.$ref) return resolve(doc.components?.schemas?.[s.$ref.split('/').pop() ?? ''] ?? {});
    if (s.allOf?.length) return resolve(s.allOf[0]);
    return s;
  };
  const build = (s0: Schema, path: string, depth: number): unknown => {
    const s = resolve(s0);
    if (depth > 6) return {};
    if (s.enum?.length) return s.enum[0];
    if (s.type === 'string') {
      strings.push(path);
      return s.format === 'uuid' ? randomUUID() : 'sample';
    }
    if (s.type === 'integer') {
      integers.push(path);
      return 1;
    }
    if (s.type === 'number') return 1;
    if (s.type === 'boolean') return true;
    if (s.type === 'array') return [build(s.items ?? {}, `${path}[0]`, depth + 1)];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = build(v, path ? `${path}.${k}` : k, depth + 1);
    return out;
  };
  const sample = build(schema, '', 0);
  return { sample: typeof sample === 'object' && sample !== null ? (sample as Record<string, unknown>) : {}, strings, integers };
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(target);
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let node: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
  return copy;
}

export async function loadOperations(target: BadInputTarget): Promise<Operation[]> {
  const res = await send(`${target.httpUrl}${target.openApiPath ?? '/docs/openapi.json'}`, 'GET', {});
  if (res.status !== 200) throw new Error(`OpenAPI document: ${res.status}`);
  const doc = JSON.parse(res.body) as OpenApi;
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const schema = op.requestBody?.content?.['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: schema ? sampleBody(doc, schema) : undefined,
      });
    }
  }
  return ops;
}

function pathParam(target: BadInputTarget, path: string, name: string): string | undefined {
  const given = target.pathParams;
  return typeof given === 'function' ? given(path, name) : given?.[name];
}

function urlOf(target: BadInputTarget, op: Operation, override?: { param: string; value: string }, query = ''): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    override?.param === name ? override.value : encodeURIComponent(pathParam(target, op.path, name) ?? randomUUID()),
  );
  return `${target.httpUrl}${path}${query}`;
}

/** Judges one answer: `expected` statuses, and the error in a shape a client can read. */
function judge(target: BadInputTarget, op: Operation, input: string, answer: Answer, expected: number[]): BadInputFinding | undefined {
  const route = `${op.method} ${op.path}`;
  if (answer.status === 0) return { route, input, got: `no answer (${answer.error})` };
  if (!expected.includes(answer.status)) return { route, input, got: `${answer.status} ${answer.body.slice(0, 200)}` };
  const standard = target.standardErrorShape?.(op.path) ?? false;
  if (standard) {
    let code: unknown;
    try {
      code = (JSON.parse(answer.body) as { responseCode?: unknown }).responseCode;
    } catch {
      code = undefined;
    }
    if (typeof code !== 'number') return { route, input, got: `${answer.status} without a responseCode: ${answer.body.slice(0, 200)}` };
  } else if (!PROBLEM_JSON.test(answer.contentType)) {
    return { route, input, got: `${answer.status} as ${answer.contentType || 'no content type'}, not problem+json` };
  }
  return undefined;
}

export type BadInputKind = 'nul' | 'surrogate' | 'depth' | 'size' | 'big-integer' | 'content-type' | 'paging' | 'path';

/** Runs one kind of bad input over every REST route; returns what did not hold (empty when all did). */
export async function runRestBadInput(target: BadInputTarget, kind: BadInputKind, ops?: Operation[]): Promise<BadInputFinding[]> {
  const operations = ops ?? (await loadOperations(target));
  const findings: BadInputFinding[] = [];
  const auth = { authorization: `Bearer ${target.token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const check = async (op: Operation, input: string, answer: Promise<Answer>, expected: number[]) => {
    const finding = judge(target, op, input, await answer, expected);
    if (finding) findings.push(finding);
  };
  for (const op of operations) {
    const bodyFor = (value: Record<string, unknown>) => JSON.stringify(value);
    switch (kind) {
      case 'nul':
      case 'surrogate': {
        const bad = kind === 'nul' ? 'x\u0000y' : 'x\ud800y';
        // A lone surrogate cannot travel in a URL (UTF-8 has no form for it); undecodable bytes there are the 'path' case.
        for (const q of kind === 'nul' ? op.queryParams : []) {
          const url = urlOf(target, op, undefined, `?${q}=${encodeURIComponent(bad)}`);
          await check(op, `${kind} in query ${q}`, send(url, op.method, json, op.body ? bodyFor(op.body.sample) : undefined), [400]);
        }
        if (op.body) {
          for (const field of op.body.strings) {
            await check(
              op,
              `${kind} in body ${field}`,
              send(urlOf(target, op), op.method, json, bodyFor(setAt(op.body.sample, field, bad))),
              [400],
            );
          }
          await check(
            op,
            `${kind} in a body key`,
            send(urlOf(target, op), op.method, json, bodyFor({ ...op.body.sample, [bad]: 1 })),
            [400],
          );
        }
        break;
      }
      case 'path':
        for (const p of op.pathParams) {
          for (const value of ['x%00y', '%ED%A0%80', '%FF', 'a'.repeat(5000)]) {
            await check(
              op,
              `path ${p}=${value.slice(0, 12)}`,
              send(urlOf(target, op, { param: p, value }), op.method, json, op.body ? bodyFor(op.body.sample) : undefined),
              [400, 404, 414],
            );
          }
        }
        break;
      case 'depth':
        if (op.body) {
          // Past the depth limit but well inside any size limit: only the depth check can refuse it.
          const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
          await check(op, 'body nested 100 deep', send(urlOf(target, op), op.method, json, `{"a":${deep(100)}}`), [400]);
          // 10,000 levels may be refused for their size first; either way, before anything recurses.
          await check(op, 'body nested 10,000 deep', send(urlOf(target, op), op.method, json, `{"a":${deep(10_000)}}`), [400, 413]);
          if (op.body.strings[0]) {
            const nested = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
            for (const n of [100, 5000]) {
              const text = bodyFor(setAt(op.body.sample, op.body.strings[0], '__DEEP__')).replace('"__DEEP__"', nested(n));
              await check(
                op,
                `field ${op.body.strings[0]} nested ${n} deep`,
                send(urlOf(target, op), op.method, json, text),
                n === 100 ? [400] : [400, 413],
              );
            }
          }
        }
        break;
      case 'size':
        if (op.body) {
          const big = Buffer.from(JSON.stringify({ pad: 'x'.repeat(target.maxJsonBytes + 1024) }));
          await check(op, `body of ${big.length} bytes`, send(urlOf(target, op), op.method, json, big), [413]);
        }
        break;
      case 'big-integer':
        if (op.body) {
          for (const field of op.body.integers) {
            for (const value of [2147483648, -2147483649, 1e300]) {
              await check(
                op,
                `${field}=${value}`,
                send(urlOf(target, op), op.method, json, bodyFor(setAt(op.body.sample, field, value))),
                [400],
              );
            }
          }
        }
        break;
      case 'content-type':
        if (op.body) {
          await check(op, 'an XML body', send(urlOf(target, op), op.method, { ...auth, 'content-type': 'application/xml' }, '<a/>'), [415]);
          await check(
            op,
            'JSON with a bad charset',
            send(urlOf(target, op), op.method, { ...auth, 'content-type': 'application/json; charset=koi8-r' }, '{}'),
            [415],
          );
          await check(op, 'malformed JSON', send(urlOf(target, op), op.method, json, '{"a":'), [400]);
        }
        break;
      case 'paging':
        // Paging parameters: only decimal limits in range, only cursors as issued.
        for (const limit of op.queryParams.includes('limit') ? ['0x10', '1e2', ' 7', '-1', '0', '201', '99999999999'] : []) {
          const url = urlOf(target, op, undefined, `?limit=${encodeURIComponent(limit)}`);
          await check(op, `limit ${JSON.stringify(limit)}`, send(url, op.method, json), [400]);
        }
        if (op.queryParams.includes('cursor')) {
          const forged = [
            Buffer.from(JSON.stringify(['not-a-date', 'not-a-uuid'])).toString('base64url'),
            Buffer.from('["\\u0000"]').toString('base64url'),
            Buffer.from('[1e400,{"a":1}]').toString('base64url'),
            'not a cursor',
            'A'.repeat(10_000),
          ];
          for (const c of forged) {
            await check(
              op,
              `cursor ${c.slice(0, 16)}`,
              send(urlOf(target, op, undefined, `?cursor=${encodeURIComponent(c)}`), op.method, json),
              [400],
            );
          }
        }
        break;
    }
  }
  return findings;
}

type Field = { name: string; label: string; type: string; typeName?: string };
type Descriptor = { field?: Field[] };
type MethodDef = { path: string; requestStream: boolean; responseStream: boolean; requestType: { type: Descriptor } };

/**
 * Sends every gRPC method a request whose string fields (nested ones included) carry U+0000 or a
 * lone surrogate; each must answer INVALID_ARGUMENT naming a field.
 */
export async function runGrpcBadInput(target: BadInputTarget, kind: 'nul' | 'surrogate'): Promise<BadInputFinding[]> {
  if (!target.grpc) return [];
  const definition = loadSync(target.grpc.protoFiles, {
    includeDirs: [target.grpc.protoRoot],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const types = definition as unknown as Record<string, { type?: Descriptor }>;
  const bad = kind === 'nul' ? 'x\u0000y' : 'x\ud800y';
  const build = (d: Descriptor, depth: number): Record<string, unknown> => {
    const msg: Record<string, unknown> = {};
    for (const f of d.field ?? []) {
      let v: unknown;
      if (f.type === 'TYPE_STRING') v = bad;
      else if (f.type === 'TYPE_MESSAGE' && depth < 4) v = build(types[(f.typeName ?? '').replace(/^\./, '')]?.type ?? {}, depth + 1);
      else continue;
      msg[f.name] = f.label === 'LABEL_REPEATED' ? [v] : v;
    }
    return msg;
  };
  const findings: BadInputFinding[] = [];
  const pkg = loadPackageDefinition(definition);
  for (const [name, def] of Object.entries(definition)) {
    if (!('format' in def) && typeof def === 'object') {
      const methods = Object.values(def as Record<string, MethodDef>).filter((m) => typeof m?.path === 'string');
      const Ctor = name.split('.').reduce<unknown>((o, k) => (o as GrpcObject)[k], pkg) as ServiceClientConstructor;
      const client = new Ctor(target.grpc.url, credentials.createInsecure());
      try {
        for (const m of methods) {
          const request = build(m.requestType.type, 0);
          if (Object.keys(request).length === 0) continue;
          const md = new Metadata();
          md.set('authorization', `Bearer ${target.token}`);
          const err = await grpcCall(client, m, request, md);
          const route = `gRPC ${m.path}`;
          if (!err) findings.push({ route, input: `${kind} in every string field`, got: 'OK' });
          else if (err.code !== GrpcStatus.INVALID_ARGUMENT)
            findings.push({ route, input: `${kind} in every string field`, got: `${GrpcStatus[err.code]} ${err.details}` });
        }
      } finally {
        client.close();
      }
    }
  }
  return findings;
}

function grpcCall(
  client: InstanceType<ServiceClientConstructor>,
  m: MethodDef,
  request: unknown,
  md: Metadata,
): Promise<ServiceError | undefined> {
  const serialize = (v: unknown) => (m as unknown as { requestSerialize: (v: unknown) => Buffer }).requestSerialize(v);
  const deserialize = (b: Buffer) => b;
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    if (m.responseStream) {
      const call = client.makeServerStreamRequest(m.path, serialize, deserialize, request, md, { deadline });
      call.on('data', () => {
        call.cancel();
        resolve(undefined);
      });
      call.on('error', (err: ServiceError) => resolve(err.code === GrpcStatus.CANCELLED ? undefined : err));
      call.on('end', () => resolve(undefined));
    } else {
      client.makeUnaryRequest(m.path, serialize, deserialize, request, md, { deadline }, (err) => resolve(err ?? undefined));
    }
  });
}

const REST_KINDS: BadInputKind[] = ['nul', 'surrogate', 'path', 'depth', 'size', 'big-integer', 'content-type', 'paging'];

/**
 * Defines the shared bad-input tests inside a service's e2e describe block. `target` is read when
 * the tests run (after the service has started in beforeAll).
 */
export function defineBadInputSuite(target: () => BadInputTarget): void {
  let operations: Operation[] | undefined;
  const ops = async () => (operations ??= await loadOperations(target()));
  it('the OpenAPI document lists the routes the table runs over', async () => {
    expect((await ops()).length).toBeGreaterThan(0);
  });
  it.each(REST_KINDS)('every REST route refuses %s input with a clear 4xx', async (kind) => {
    expect(await runRestBadInput(target(), kind, await ops())).toEqual([]);
  });
  it.each(['nul', 'surrogate'] as const)('every gRPC method refuses %s in its string fields with INVALID_ARGUMENT', async (kind) => {
    expect(await runGrpcBadInput(target(), kind)).toEqual([]);
  });
}
