import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppLogger } from '@iip/platform-observability';
import { HandleResponseCode, IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { sendHandleError } from './handle-api.filter';
import { HOPS_HEADER } from './remote-resolver';
import { ResolutionService } from './resolution.service';

const PREFIX = '/api/handles/';
const KNOWN_QUERY = new Set(['type', 'index', 'auth', 'pretty']);

/**
 * The hot path of a resolution node: anonymous `GET /api/handles/{handle}` (public values only)
 * answered straight from the resolution service, without the framework's per-request guard,
 * pipe and interceptor work. Anything else — a token, unknown query parameters, another method —
 * goes on to the full controller, which answers the same way.
 */
export function anonymousResolution(resolution: ResolutionService, logger: AppLogger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' || req.headers.authorization !== undefined || !req.path.startsWith(PREFIX)) return next();
    const query = req.query as Record<string, unknown>;
    for (const key of Object.keys(query)) if (!KNOWN_QUERY.has(key)) return next();
    const filters = filtersOf(query);
    if (!filters) return next(); // malformed filters: the controller explains what is wrong
    let name: string;
    try {
      name = req.path.slice(PREFIX.length).split('/').map(decodeURIComponent).join('/');
    } catch {
      sendHandleError(
        res,
        req,
        new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, 'The handle is not valid percent-encoded UTF-8'),
        logger,
      );
      return;
    }
    (req as Request & { handleName?: string }).handleName = name;
    const hops = Number(req.headers[HOPS_HEADER] ?? 0);
    resolution
      .resolve(undefined, name, filters, query.auth === 'true', Number.isInteger(hops) && hops >= 0 ? hops : 0)
      .then((result) => {
        res.setHeader('X-IIP-Resolution-Source', result.source);
        if (result.source === 'remote-stale') res.setHeader('Warning', '110 - "Response is Stale"');
        res
          .status(200)
          .type('application/json')
          .send(JSON.stringify({ responseCode: HandleResponseCode.SUCCESS, handle: result.handle, values: result.values }));
      })
      .catch((err: unknown) => sendHandleError(res, req, err, logger));
  };
}

/** type= and index= as the controller's DTO accepts them; undefined when they break its rules. */
function filtersOf(query: Record<string, unknown>): { types: string[]; indexes: number[] } | undefined {
  const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const types = list(query.type);
  const indexes = list(query.index);
  if (types.length > 50 || indexes.length > 50) return undefined;
  if (!types.every((t) => typeof t === 'string' && t.length <= 128)) return undefined;
  if (!indexes.every((i) => typeof i === 'string' && /^\d{1,10}$/.test(i) && Number(i) >= 1)) return undefined;
  if (query.auth !== undefined && query.auth !== 'true' && query.auth !== 'false') return undefined;
  return { types: types as string[], indexes: indexes.map(Number) };
}
