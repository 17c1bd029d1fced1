import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { FieldError } from './problem';
import { findUnsafeStrings, unsafeStringReason } from './input-safety';
import { RequestValidationError } from './validation';

/**
 * Refuses U+0000 and lone surrogates anywhere in a request — path parameters, query, JSON or
 * text body, gRPC message — before any handler, rule or query sees it. Installed globally for
 * both transports (platformEnhancers); errors go through the route's own filters, so each API
 * keeps its error shape.
 */
@Injectable()
export class InputSafetyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const problems: FieldError[] = [];
    if (context.getType() === 'rpc') {
      findUnsafeStrings(context.switchToRpc().getData<unknown>(), '', problems);
    } else if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<Request>();
      findUnsafeStrings(req.params, '', problems);
      findUnsafeStrings(req.query, '', problems);
      if (typeof req.body === 'string') textBodyProblems(req.body, problems);
      else findUnsafeStrings(req.body, '', problems);
    }
    if (problems.length > 0) throw new RequestValidationError(problems.map((p) => (p.field ? p : { ...p, field: '(body)' })));
    return true;
  }
}

/** Text bodies (NDJSON, CSV) are named by line, which is how their authors find the place. */
function textBodyProblems(body: string, out: FieldError[]): void {
  if (unsafeStringReason(body) === undefined) return;
  body.split('\n').forEach((line, i) => {
    const reason = unsafeStringReason(line);
    if (reason && out.length < 20) out.push({ field: `(body) line ${i + 1}`, message: reason });
  });
}
