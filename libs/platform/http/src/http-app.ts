import { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import express from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  INPUT_LIMITS,
  JsonTooDeepError,
  expressProblemHandler,
  jsonDepthExceeds,
  problem,
  strictValidationPipe,
} from '@iip/platform-errors';
import { AppLogger, Metrics, requestObservability } from '@iip/platform-observability';

export interface HttpSetupOptions {
  logger: AppLogger;
  metrics: Metrics;
  /** Limit for JSON and form bodies. */
  jsonLimit?: string;
  /** Text media types accepted as a raw string body (e.g. NDJSON, CSV) and their limit. */
  textTypes?: string[];
  /** Media types accepted but left unparsed: the route reads the request as a stream (large uploads). */
  streamTypes?: string[];
  textLimit?: string;
  openApi?: { title: string; description: string; version: string };
  /**
   * A service's hot path, offered every request on the bare Node server before the framework
   * sees it. It returns true when it has taken the request (and answers it itself, request id,
   * metrics and errors included); anything it declines goes through the full stack unchanged.
   */
  fastPath?: RawRequestHandler;
  /**
   * Routes that answer errors in another standard's shape (the Handle API's `responseCode`):
   * failures before routing (body parsing, media type) on them are written by `send`.
   */
  errorShapes?: { pathPrefix: string; send: (req: Request, res: Response, err: unknown) => void }[];
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
  const accepted = ['application/json', 'application/x-www-form-urlencoded', ...textTypes, ...(options.streamTypes ?? [])];
  app.use(requestObservability(options.logger, options.metrics));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (BODY_METHODS.has(req.method) && hasBody && !req.is(accepted) && !req.is('application/*+json')) {
      return next(
        Object.assign(new Error(`Content-Type must be one of: ${accepted.join(', ')}`), { status: 415, type: 'media.unsupported' }),
      );
    }
    next();
  });
  app.use(
    express.json({
      limit: options.jsonLimit ?? '256kb',
      strict: true,
      type: ['application/json', 'application/*+json'],
      // Bounded before parsing: validators and transformers recurse, and would overflow the stack.
      verify: (_req, _res, buf) => {
        if (jsonDepthExceeds(buf, INPUT_LIMITS.maxJsonDepth)) throw new JsonTooDeepError(INPUT_LIMITS.maxJsonDepth);
      },
    }),
  );
  app.use(express.urlencoded({ extended: false, limit: options.jsonLimit ?? '256kb', parameterLimit: 50 }));
  if (textTypes.length > 0) app.use(express.text({ type: textTypes, limit: options.textLimit ?? '20mb' }));
  const shapes = options.errorShapes ?? [];
  if (shapes.length > 0) {
    app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
      const shape = shapes.find((s) => req.path.startsWith(s.pathPrefix));
      if (!shape || res.headersSent) return next(err);
      shape.send(req, res, err);
    });
  }
  app.use(expressProblemHandler(options.logger));
  answerProtocolErrors(app.getHttpServer() as Server);
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

/** Node's HTTP parser limit on the request line plus headers (its default, 16 KiB). */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Node answers what its HTTP parser refuses (oversized headers or URL, bad framing, an Expect it
 * does not know) with a bare status line, or resets the connection. Answer them as problem+json
 * instead, and drain what the client is still sending so it reads the answer rather than a reset.
 */
function answerProtocolErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, code, detail] = protocolProblem(err.code);
    const body = JSON.stringify(problem(status, code, detail));
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/problem+json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    socket.resume();
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify(problem(417, 'EXPECTATION_FAILED', 'Only "Expect: 100-continue" is supported'));
    res.writeHead(417, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
    req.resume();
  });
}

function protocolProblem(code: string | undefined): [number, string, string] {
  switch (code ?? '') {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'HEADERS_TOO_LARGE', `The request line and headers exceed ${MAX_HEADER_BYTES} bytes`];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADER_TIMEOUT':
      return [408, 'REQUEST_TIMEOUT', 'The request was not received in time'];
    default:
      return [400, 'MALFORMED_REQUEST', 'The request is not valid HTTP/1.1'];
  }
}
