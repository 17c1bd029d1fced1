import { Body, Controller, Get, Header, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { schemaPipe } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE, Page, PageQuery, openApiSchema } from '@iip/platform-http';
import { DeviceScopes } from '../scopes';
import {
  CREATE_MODEL_OPENAPI,
  CreateModelInput,
  IMPORT_TD_OPENAPI,
  ImportTdInput,
  PUT_VERSION_OPENAPI,
  PutVersionInput,
  createModelSchema,
  importTdSchema,
  putVersionSchema,
  versionPipe,
} from './dto/model.dto';
import { ModelVersionView, ModelView, ModelsService } from './models.service';

const uuid = new ParseUUIDPipe({ version: undefined });

@ApiTags('thing models')
@ApiBearerAuth()
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Post()
  @RequireScopes(DeviceScopes.ModelsWrite)
  @ApiBody({ schema: openApiSchema(CREATE_MODEL_OPENAPI) })
  @ApiOperation({ summary: 'Create a thing model; its version 1 is a draft until published' })
  create(@CurrentPrincipal() actor: Principal, @Body(schemaPipe(createModelSchema)) body: CreateModelInput): Promise<ModelView> {
    return this.models.create(actor, body);
  }

  @Post('import-td')
  @RequireScopes(DeviceScopes.ModelsWrite)
  @ApiBody({ schema: openApiSchema(IMPORT_TD_OPENAPI) })
  @ApiOperation({ summary: 'Create a thing model from a W3C WoT Thing Description 1.1; notes say what a model does not keep' })
  importTd(
    @CurrentPrincipal() actor: Principal,
    @Body(schemaPipe(importTdSchema)) body: ImportTdInput,
  ): Promise<ModelView & { notes: string[] }> {
    return this.models.importTd(actor, body);
  }

  @Get()
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: "Thing models you may use: your own, your group's, the platform's and those of tenants below you" })
  list(@CurrentPrincipal() actor: Principal, @Query() page: PageQuery): Promise<Page<ModelView>> {
    return this.models.list(actor, page.limit ?? DEFAULT_PAGE_SIZE, page.cursor);
  }

  @Get(':id')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: 'A thing model and its versions' })
  get(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<ModelView> {
    return this.models.get(actor, id);
  }

  @Get(':id/versions/:version')
  @RequireScopes(DeviceScopes.DevicesRead)
  @ApiOperation({ summary: 'One version of a thing model, with its definition' })
  version(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Param('version', versionPipe) version: number,
  ): Promise<ModelVersionView> {
    return this.models.version(actor, id, version);
  }

  @Put(':id/versions/:version')
  @RequireScopes(DeviceScopes.ModelsWrite)
  @ApiBody({ schema: openApiSchema(PUT_VERSION_OPENAPI) })
  @ApiOperation({ summary: 'Replace a draft version, or open the next version as a draft (a published version is immutable: 409)' })
  putVersion(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Param('version', versionPipe) version: number,
    @Body(schemaPipe(putVersionSchema)) body: PutVersionInput,
  ): Promise<ModelVersionView> {
    return this.models.putVersion(actor, id, version, body.definition);
  }

  @Post(':id/versions/:version/publish')
  @HttpCode(200)
  @RequireScopes(DeviceScopes.ModelsWrite)
  @ApiOperation({ summary: 'Publish a draft version: from now on it never changes, and devices may pin it' })
  publish(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Param('version', versionPipe) version: number,
  ): Promise<ModelVersionView> {
    return this.models.publish(actor, id, version);
  }

  @Get(':id/versions/:version/td')
  @RequireScopes(DeviceScopes.DevicesRead)
  @Header('Content-Type', 'application/td+json')
  @ApiOperation({ summary: 'The version as a W3C WoT Thing Description 1.1' })
  td(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Param('version', versionPipe) version: number,
  ): Promise<Record<string, unknown>> {
    return this.models.exportTd(actor, id, version);
  }
}
