import type { NextFunction, Request, Response } from 'express';
import { AppLogger } from './logger';
import { Metrics } from './metrics';
import { REQUEST_ID_HEADER, normaliseRequestId, runWithRequestContext } from './request-context';

/**
 * Gives each HTTP request an id (the caller's x-request-id when sane), echoes it, runs the
 * rest of the request inside its context, and records duration and outcome.
 */
export function requestObservability(logger: AppLogger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = normaliseRequestId(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpRequests.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (res.statusCode >= 500) {
        logger.error({ requestId, method: req.method, url: req.originalUrl, status: res.statusCode, ms: seconds * 1000 }, 'request failed');
      } else if (logger.isLevelEnabled('debug')) {
        logger.debug({ requestId, method: req.method, url: req.originalUrl, status: res.statusCode, ms: seconds * 1000 }, 'request');
      }
    });
    runWithRequestContext(requestId, next);
  };
}
