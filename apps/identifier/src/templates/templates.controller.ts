import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { INT32_MAX } from '../identifiers/dto/handle-value.schema';
import { CreateTemplateDto, TemplateView } from './dto/template.dto';
import { TemplateEntity } from './template.entity';
import { TemplatesService } from './templates.service';

const view = (t: TemplateEntity): TemplateView => ({
  kind: t.kind,
  version: t.version,
  schema: t.schema,
  createdAt: t.createdAt.toISOString(),
});

/** A version in the path: 1 to the largest the column holds. */
function versionFrom(raw: string): number {
  const version = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(version >= 1 && version <= INT32_MAX)) {
    throw new IdentifierError(IdentifierErrorCode.INVALID_VALUE, `A template version is an integer from 1 to ${INT32_MAX}`);
  }
  return version;
}

/** Identifier templates: per kind, versioned JSON Schemas the values of its identifiers must satisfy. */
@ApiTags('templates')
@ApiBearerAuth()
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Post()
  @RequireScopes('prefixes:write')
  @ApiOperation({ summary: "Add a kind's next template version (platform operator)" })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateTemplateDto): Promise<TemplateView> {
    return view(await this.templates.create(p, body.kind, body.schema));
  }

  @Get()
  @ApiOperation({ summary: 'Every version of every template' })
  async list(): Promise<{ items: TemplateView[] }> {
    return { items: (await this.templates.list()).map(view) };
  }

  @Get(':kind')
  @ApiOperation({ summary: "A kind's latest template" })
  async latest(@Param('kind') kind: string): Promise<TemplateView> {
    return view(await this.templates.resolve(kind));
  }

  @Get(':kind/:version')
  @ApiOperation({ summary: "A kind's template at a version" })
  async at(@Param('kind') kind: string, @Param('version') version: string): Promise<TemplateView> {
    return view(await this.templates.resolve(kind, versionFrom(version)));
  }
}
