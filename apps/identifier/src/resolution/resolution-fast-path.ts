import type { IncomingMessage, ServerResponse } from 'node:http';
import { RawRequestHandler } from '@iip/platform-http';
import { AppLogger, Metrics, REQUEST_ID_HEADER, normaliseRequestId, runWithRequestContext } from '@iip/platform-observability';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { INT32_MAX } from '../identifiers/dto/handle-value.schema';
import { HandleRequest, sendHandleError } from './handle-api.filter';
import { hopsOf } from './remote-resolver';
import { ResolveFilters } from './resolve-filters';
import { ResolutionService, handleAnswer, setResolutionHeaders } from './resolution.service';

const PREFIX = '/api/handles/';
const ROUTE = '/api/handles/*handle';
const KNOWN_QUERY = new Set(['type', 'index', 'auth', 'pretty']);
const NO_FILTERS: ResolveFilters = { types: [], indexes: [] };

interface AnonymousQuery {
  filters: ResolveFilters;
  authoritative: boolean;
}

/**
 * The hot path of a resolution node: anonymous `GET /api/handles/{handle}` (public values only),
 * taken on the bare Node server before Express and Nest see it. A record this instance holds in
 * memory is answered synchronously with bytes serialised once per record; anything else
 * anonymous goes through the resolution service without the framework's per-request work. A
 * token, another method or a query the controller would have to explain goes on to the full
 * controller, which gives the same answers.
 */
export function resolutionFastPath(resolution: ResolutionService, logger: AppLogger, metrics: Metrics): RawRequestHandler {
  const ok = metrics.httpRequests.labels('GET', ROUTE, '200');
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith(PREFIX) || req.headers.authorization !== undefined) return false;
    // No handle at all, or a raw '#' (Express drops it and all after it): the framework answers.
    if (url.length === PREFIX.length || url[PREFIX.length] === '?' || url.includes('#')) return false;
    const q = url.indexOf('?');
    const query = q < 0 ? { filters: NO_FILTERS, authoritative: false } : anonymousQuery(url.slice(q + 1));
    if (!query) return false; // the controller explains what is wrong with the query
    const started = process.hrtime.bigint();
    const requestId = normaliseRequestId(req.headers[REQUEST_ID_HEADER]);
    let name: string;
    try {
      const path = url.slice(PREFIX.length, q < 0 ? undefined : q);
      name = path.includes('%') ? decodeURIComponent(path) : path;
    } catch {
      res.setHeader(REQUEST_ID_HEADER, requestId);
      sendHandleError(
        res,
        req,
        new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, 'The handle is not valid percent-encoded UTF-8'),
        logger,
      );
      return true;
    }
    const unfiltered = query.filters === NO_FILTERS;
    const cached = unfiltered && !query.authoritative ? resolution.cachedPublicAnswer(name) : undefined;
    if (cached) {
      res.writeHead(200, [
        'content-type',
        'application/json; charset=utf-8',
        'content-length',
        String(cached.length),
        'x-iip-resolution-source',
        'memory',
        REQUEST_ID_HEADER,
        requestId,
      ]);
      res.end(cached);
      ok.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return true;
    }
    res.setHeader(REQUEST_ID_HEADER, requestId);
    (req as HandleRequest).handleName = name;
    runWithRequestContext(requestId, () => resolution.resolve(undefined, name, query.filters, query.authoritative, hopsOf(req.headers)))
      .then((result) => {
        const body = JSON.stringify(handleAnswer(result));
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.setHeader('content-length', Buffer.byteLength(body));
        setResolutionHeaders(res, result.source);
        res.end(body);
      })
      .catch((err: unknown) => sendHandleError(res, req, err, logger))
      .then(() =>
        metrics.httpRequests.observe(
          { method: 'GET', route: ROUTE, status: String(res.statusCode) },
          Number(process.hrtime.bigint() - started) / 1e9,
        ),
      )
      .catch((err: unknown) => {
        logger.error({ err, url }, 'resolution fast path could not answer');
        res.destroy();
      });
    return true;
  };
}

/** type=, index=, auth= and pretty= as the controller's DTO accepts them; undefined for anything it would reject or not know. */
function anonymousQuery(search: string): AnonymousQuery | undefined {
  const params = new URLSearchParams(search);
  const types: string[] = [];
  const indexes: number[] = [];
  let authoritative = false;
  for (const [key, value] of params) {
    if (!KNOWN_QUERY.has(key)) return undefined;
    if (key === 'type') {
      if (value.length > 128) return undefined;
      types.push(value);
    } else if (key === 'index') {
      if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > INT32_MAX) return undefined;
      indexes.push(Number(value));
    } else if (key === 'auth') {
      if (value !== 'true' && value !== 'false') return undefined;
      if (params.getAll('auth').length > 1) return undefined;
      authoritative = value === 'true';
    } else if ((value !== 'true' && value !== 'false' && value !== '') || params.getAll('pretty').length > 1) {
      return undefined; // pretty
    }
  }
  if (types.length > 50 || indexes.length > 50) return undefined;
  return { filters: types.length === 0 && indexes.length === 0 ? NO_FILTERS : { types, indexes }, authoritative };
}
