import { Controller, Delete, Get, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AcceptsBasicAuth, CurrentPrincipal, Principal, Public, RequireScopes, authorizationScheme } from '@iip/platform-auth';
import { HandleApiErrorFilter } from '../resolution/handle-api.filter';
import { HandleIdentityAuthenticator } from './handle-identity.authenticator';
import { handleAuthParams } from './handle-sessions';

/** The session an `Authorization: Handle … sessionId="…"` header names. */
function sessionIdOf(req: Request): string | undefined {
  const auth = authorizationScheme(req.headers.authorization);
  return auth?.scheme === 'handle' ? handleAuthParams(auth.params)?.sessionId : undefined;
}

/**
 * The Handle REST API's sessions, how public-key identities authenticate over HTTP: open one
 * (its nonce comes back), sign the nonce and a client nonce with the identity's private key in
 * `Authorization: Handle …` on POST /api/sessions/this, then name the session on every write.
 */
@ApiTags('handles')
@Controller('api/sessions')
@UseFilters(HandleApiErrorFilter)
export class HandleSessionsController {
  constructor(private readonly identities: HandleIdentityAuthenticator) {}

  @Post()
  @Public()
  @ApiOperation({ summary: 'Open a session: its id and the nonce a public-key identity signs' })
  async open(): Promise<{ sessionId: string; nonce: string }> {
    const session = await this.identities.sessions.open();
    return { sessionId: session.id, nonce: session.nonce.toString('base64') };
  }

  @Post('this')
  @HttpCode(200)
  @AcceptsBasicAuth()
  @RequireScopes('identifiers:write')
  @ApiOperation({
    summary: 'Authenticate the session: Authorization: Handle version="0", sessionId, id, type="HS_PUBKEY", cnonce, alg, signature',
  })
  authenticate(@Req() req: Request, @CurrentPrincipal() principal: Principal) {
    return this.describe(req, principal);
  }

  @Get('this')
  @AcceptsBasicAuth()
  @RequireScopes('identifiers:write')
  @ApiOperation({ summary: 'The session named in Authorization: Handle, and whom it authenticates' })
  current(@Req() req: Request, @CurrentPrincipal() principal: Principal) {
    return this.describe(req, principal);
  }

  @Delete('this')
  @HttpCode(204)
  @AcceptsBasicAuth()
  @RequireScopes('identifiers:write')
  @ApiOperation({ summary: 'End the session named in Authorization: Handle' })
  async close(@Req() req: Request): Promise<void> {
    const id = sessionIdOf(req);
    if (id) await this.identities.sessions.close(id);
  }

  private describe(req: Request, principal: Principal) {
    const identity = principal.handleIdentity;
    return {
      sessionId: sessionIdOf(req) ?? null,
      authenticated: identity !== undefined,
      id: identity ? `${identity.index}:${identity.handle}` : null,
    };
  }
}
