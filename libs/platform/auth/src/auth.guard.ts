import { CanActivate, ExecutionContext, HttpException, Injectable, Optional } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { Request, Response } from 'express';
import { problem } from '@iip/platform-errors';
import { ACCEPTS_BASIC_AUTH, BasicAuthenticator, BasicCredentials, authorizationScheme, basicCredentialsFrom } from './basic-auth';
import { IS_PUBLIC, OPTIONAL_AUTH, REQUIRED_SCOPES, attachPrincipal } from './decorators';
import { Principal } from './principal';
import { InvalidTokenError, TokenVerifier } from './token-verifier';

/**
 * Every route and RPC is authenticated unless marked @Public(); @RequireScopes() adds a
 * scope check. Works for HTTP (Authorization header) and gRPC (authorization metadata).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {}

  /** The service's Basic authenticator, looked up once: it lives in a feature module, not in this one. */
  private basicAuthenticator?: BasicAuthenticator | null;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride<string[]>(REQUIRED_SCOPES, targets) ?? [];
    const optional = this.reflector.getAllAndOverride<boolean>(OPTIONAL_AUTH, targets) ?? false;

    if (context.getType() === 'rpc') {
      const metadata = context.switchToRpc().getContext<Metadata>();
      if (optional && metadata.get('authorization').length === 0) return true;
      const principal = await this.authenticate(bearerFrom(metadata.get('authorization')[0]), 'rpc');
      this.checkScopes(principal, required, 'rpc');
      attachPrincipal(metadata, principal);
      return true;
    }
    const req = context.switchToHttp().getRequest<Request>();
    if (optional && req.headers.authorization === undefined) return true;
    const acceptsBasic = this.reflector.getAllAndOverride<boolean>(ACCEPTS_BASIC_AUTH, targets) ?? false;
    const basic = acceptsBasic ? basicCredentialsFrom(req.headers.authorization) : undefined;
    const res = context.switchToHttp().getResponse<Response>();
    const authenticator = acceptsBasic ? this.findBasicAuthenticator() : undefined;
    const other = authorizationScheme(req.headers.authorization);
    let principal: Principal;
    if (basic !== undefined && authenticator) principal = await this.authenticateBasic(authenticator, basic, req, res);
    else if (authenticator && other && authenticator.otherSchemes.includes(other.scheme)) {
      principal = await authenticator.authenticateScheme(other.scheme, other.params, req);
      if (this.verifier.noLongerValid(principal)) throw basicUnauthenticated('The credentials may not act: their tenant is suspended', res);
    } else principal = await this.authenticate(bearerFrom(req.headers.authorization), 'http', res);
    this.checkScopes(principal, required, 'http', res);
    attachPrincipal(req, principal);
    return true;
  }

  private async authenticate(token: string | undefined, transport: 'http' | 'rpc', res?: Response): Promise<Principal> {
    if (!token) throw unauthenticated(transport, 'An access token is required (Authorization: Bearer <token>)', res, false);
    try {
      return await this.verifier.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw unauthenticated(transport, `Invalid access token: ${err.message}`, res, true);
      throw err;
    }
  }

  private async authenticateBasic(
    authenticator: BasicAuthenticator,
    credentials: BasicCredentials | 'malformed',
    req: Request,
    res: Response,
  ): Promise<Principal> {
    if (credentials === 'malformed') throw basicUnauthenticated('The Basic credentials are not base64 of user:password', res);
    const principal = await authenticator.authenticate(credentials, req);
    // The same revocation view as for tokens: a suspended tenant's identities are refused at once.
    if (this.verifier.noLongerValid(principal)) throw basicUnauthenticated('The credentials may not act: their tenant is suspended', res);
    return principal;
  }

  private findBasicAuthenticator(): BasicAuthenticator | undefined {
    if (this.basicAuthenticator === undefined) {
      try {
        this.basicAuthenticator = this.moduleRef?.get(BasicAuthenticator, { strict: false }) ?? null;
      } catch {
        this.basicAuthenticator = null; // none provided: Basic is not accepted, the bearer check answers
      }
    }
    return this.basicAuthenticator ?? undefined;
  }

  private checkScopes(principal: Principal, required: string[], transport: 'http' | 'rpc', res?: Response): void {
    const missing = required.filter((s) => !principal.scopes.has(s));
    if (missing.length === 0) return;
    const detail = `The access token lacks the scope(s): ${missing.join(' ')}`;
    if (transport === 'rpc') throw new RpcException({ code: GrpcStatus.PERMISSION_DENIED, message: detail });
    res?.setHeader('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${required.join(' ')}"`);
    throw new HttpException({ problem: problem(403, 'INSUFFICIENT_SCOPE', detail, { requiredScopes: required }) }, 403);
  }
}

function bearerFrom(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(value);
  return match?.[1];
}

/**
 * The 401 (gRPC UNAUTHENTICATED) for a token that verified but must not be honoured, as a
 * later guard decides (e.g. tenancy's live check of the caller): the same answer as an invalid token.
 */
export function invalidTokenError(context: ExecutionContext, detail: string): Error {
  if (context.getType() === 'rpc') return unauthenticated('rpc', `Invalid access token: ${detail}`, undefined, true);
  return unauthenticated('http', `Invalid access token: ${detail}`, context.switchToHttp().getResponse<Response>(), true);
}

/** The 401 for Basic credentials that do not authenticate; Basic authenticators throw it too. */
export function basicUnauthenticated(detail: string, res?: Response): HttpException {
  res?.setHeader('WWW-Authenticate', 'Basic realm="iip", charset="UTF-8"');
  return new HttpException({ problem: problem(401, 'UNAUTHENTICATED', detail) }, 401);
}

function unauthenticated(transport: 'http' | 'rpc', detail: string, res: Response | undefined, invalid: boolean): Error {
  if (transport === 'rpc') return new RpcException({ code: GrpcStatus.UNAUTHENTICATED, message: detail });
  res?.setHeader('WWW-Authenticate', invalid ? `Bearer error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` : 'Bearer');
  return new HttpException({ problem: problem(401, invalid ? 'INVALID_TOKEN' : 'UNAUTHENTICATED', detail) }, 401);
}
