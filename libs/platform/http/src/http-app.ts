import { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import express from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { expressProblemHandler, problem, sendProblem, strictValidationPipe } from '@iip/platform-errors';
import { AppLogger, Metrics, requestObservability } from '@iip/platform-observability';

export interface HttpSetupOptions {
  logger: AppLogger;
  metrics: Metrics;
  /** Limit for JSON and form bodies. */
  jsonLimit?: string;
  /** Text media types accepted as a raw string body (e.g. NDJSON, CSV) and their limit. */
  textTypes?: string[];
  textLimit?: string;
  openApi?: { title: string; description: string; version: string };
  /**
   * A service's hot path, offered every request on the bare Node server before the framework
   * sees it. It returns true when it has taken the request (and answers it itself, request id,
   * metrics and errors included); anything it declines goes through the full stack unchanged.
   */
  fastPath?: RawRequestHandler;
}

export type RawRequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The HTTP edge every service shares: request ids and metrics, strict body parsing with
 * limits, problem+json for failures before routing, OpenAPI at /docs. Error mapping and
 * validation after routing come from the global enhancers (platformEnhancers).
 */
export function setupHttp(app: INestApplication, options: HttpSetupOptions): void {
  const textTypes = options.textTypes ?? [];
  const accepted = ['application/json', 'application/x-www-form-urlencoded', ...textTypes];
  app.use(requestObservability(options.logger, options.metrics));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (BODY_METHODS.has(req.method) && hasBody && !req.is(accepted) && !req.is('application/*+json')) {
      return sendProblem(res, req, problem(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be one of: ${accepted.join(', ')}`));
    }
    next();
  });
  app.use(express.json({ limit: options.jsonLimit ?? '256kb', strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: false, limit: options.jsonLimit ?? '256kb', parameterLimit: 50 }));
  if (textTypes.length > 0) app.use(express.text({ type: textTypes, limit: options.textLimit ?? '20mb' }));
  app.use(expressProblemHandler(options.logger));
  if (options.fastPath) installFastPath(app.getHttpServer() as Server, options.fastPath, options.logger);
  app.useGlobalPipes(strictValidationPipe());
  (app.getHttpAdapter().getInstance() as express.Express).disable('x-powered-by');

  if (options.openApi) {
    const config = new DocumentBuilder()
      .setTitle(options.openApi.title)
      .setDescription(options.openApi.description)
      .setVersion(options.openApi.version)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build();
    const document = SwaggerModule.createDocument(app, config);
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  }
}

/**
 * Puts `fastPath` in front of the listeners the framework attached to its server. A fast path
 * that throws before answering hands the request to the framework, so a bug there costs speed,
 * not the process or the request.
 */
function installFastPath(server: Server, fastPath: RawRequestHandler, logger: AppLogger): void {
  const framework = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (fastPath(req, res)) return;
    } catch (err) {
      logger.error({ err, url: req.url }, 'fast path failed; the framework answers instead');
      if (res.headersSent) return void res.destroy();
    }
    for (const listener of framework) listener.call(server, req, res);
  });
}
