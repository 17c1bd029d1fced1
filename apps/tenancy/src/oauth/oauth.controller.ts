import { Body, Controller, Delete, Get, Header, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentPrincipal, Principal, Public, RequireScopes } from '@iip/platform-auth';
import { Page, PageQuery } from '@iip/platform-http';
import { TenancyError, TenancyErrorCode } from '../tenancy.errors';
import { ClientsService } from './clients.service';
import { ClientView, CreateClientDto, CreatedClientView } from './dto/client.dto';
import { RequireLiveCaller } from './live-caller.guard';
import { OAuthError, OAuthErrorFilter } from './oauth.errors';
import { Scopes } from './scopes';
import { SigningKeysService } from './signing-keys.service';
import { TokenResponse, TokenService } from './token.service';

@ApiTags('oauth')
@Controller()
export class OAuthController {
  constructor(
    private readonly tokens: TokenService,
    private readonly keys: SigningKeysService,
  ) {}

  @Public()
  @Post('oauth/token')
  @HttpCode(200)
  @UseFilters(OAuthErrorFilter)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({ summary: 'OAuth2 client credentials grant (RFC 6749 §4.4); client_secret_basic or client_secret_post' })
  token(@Req() req: Request): Promise<TokenResponse> {
    // RFC 6749 §4.4.2: the parameters come form-encoded. (No body at all is answered below: grant_type is required.)
    if (req.is('application/x-www-form-urlencoded') === false) {
      throw new OAuthError('invalid_request', 'The request body must be application/x-www-form-urlencoded');
    }
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const field = (name: string): string | undefined => {
      const v = body[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new OAuthError('invalid_request', `${name} must be a single string`);
      return v;
    };
    let clientId = field('client_id');
    let clientSecret = field('client_secret');
    let usedBasicAuth = false;
    const authorization = req.headers.authorization;
    if (authorization?.toLowerCase().startsWith('basic ')) {
      if (clientSecret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method, not two');
      usedBasicAuth = true;
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials', 401, true);
      try {
        // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
        clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        throw new OAuthError('invalid_client', 'Malformed Basic credentials', 401, true);
      }
    }
    // req.ip follows Express's "trust proxy" setting, which tenancy leaves off: X-Forwarded-For is not believed.
    const sourceAddress = req.ip ?? req.socket.remoteAddress;
    return this.tokens.issue({
      grantType: field('grant_type'),
      scope: field('scope'),
      clientId,
      clientSecret,
      usedBasicAuth,
      sourceAddress,
    });
  }

  @Public()
  @Get('.well-known/jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOperation({ summary: 'Public keys that verify IIP access tokens' })
  jwks() {
    return this.keys.jwks();
  }

  @Post('v1/keys/rotate')
  @ApiBearerAuth()
  @RequireScopes(Scopes.KeysRotate)
  @RequireLiveCaller()
  @ApiOperation({ summary: 'Rotate the token signing key now (platform operator)' })
  async rotate(@CurrentPrincipal() principal: Principal): Promise<{ kid: string }> {
    if (principal.tenant.kind !== 'platform')
      throw new TenancyError(TenancyErrorCode.NOT_PERMITTED, 'Only the platform operator rotates keys');
    return { kid: await this.keys.rotate() };
  }
}

@ApiTags('clients')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  @RequireScopes(Scopes.ClientsWrite)
  @RequireLiveCaller()
  @ApiOperation({ summary: 'Create an OAuth2 client; the secret is in this response only' })
  create(
    @CurrentPrincipal() p: Principal,
    @Param('tenantId', ParseUUIDPipe) tenantId: string,
    @Body() body: CreateClientDto,
  ): Promise<CreatedClientView> {
    return this.clients.create(p, tenantId, body);
  }

  @Get()
  @RequireScopes(Scopes.ClientsRead)
  list(
    @CurrentPrincipal() p: Principal,
    @Param('tenantId', ParseUUIDPipe) tenantId: string,
    @Query() page: PageQuery,
  ): Promise<Page<ClientView>> {
    return this.clients.list(p, tenantId, page.limit, page.cursor);
  }

  @Delete(':clientId')
  @HttpCode(204)
  @RequireScopes(Scopes.ClientsWrite)
  @RequireLiveCaller()
  @ApiOperation({ summary: 'Revoke a client: its tokens stop working at every service within a second' })
  async revoke(
    @CurrentPrincipal() p: Principal,
    @Param('tenantId', ParseUUIDPipe) tenantId: string,
    @Param('clientId') clientId: string,
  ): Promise<void> {
    await this.clients.revoke(p, tenantId, clientId);
  }
}
