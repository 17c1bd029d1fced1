import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, TenantKind } from '@iip/platform-auth';

interface WhoAmI {
  clientId: string;
  tenant: { id: string; kind: TenantKind; path: string[] };
  scopes: string[];
  expiresAt: string;
}

/** Lets a partner check what its token stands for: which client, which tenant, which scopes. */
@ApiTags('oauth')
@ApiBearerAuth()
@Controller('v1/whoami')
export class WhoAmIController {
  @Get()
  @ApiOperation({ summary: 'The caller as its access token describes it' })
  whoami(@CurrentPrincipal() principal: Principal): WhoAmI {
    return {
      clientId: principal.clientId,
      tenant: principal.tenant,
      scopes: [...principal.scopes].sort(),
      expiresAt: new Date(principal.expiresAt * 1000).toISOString(),
    };
  }
}
