import { Body, Controller, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { schemaPipe } from '@iip/platform-errors';
import { openApiSchema } from '@iip/platform-http';
import { DeviceScopes, RenewalScopes } from '../scopes';
import { REPLACEMENT_SCHEMA, ReplacementInput, replacementSchema } from './projects.dto';
import { ReplacementRow } from './projects.repository';
import { ReplacementService } from './replacement.service';

const uuid = new ParseUUIDPipe({ version: undefined });

@ApiTags('renewal')
@ApiBearerAuth()
@Controller('v1/renewal/projects/:id/replacements')
export class ReplacementController {
  constructor(private readonly replacements: ReplacementService) {}

  @Post()
  @RequireScopes(RenewalScopes.RenewalWrite, DeviceScopes.DevicesWrite)
  @ApiBody({ schema: openApiSchema(REPLACEMENT_SCHEMA) })
  @ApiOperation({
    summary:
      'A new device (registered as usual, of a model the project names) replaces an old one: the old is decommissioned, both identifiers show the link (IIP_REPLACES / IIP_REPLACED_BY); the same pair again answers the same',
  })
  register(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Body(schemaPipe(replacementSchema)) body: ReplacementInput,
  ): Promise<ReplacementRow> {
    return this.replacements.register(actor, id, body);
  }
}
