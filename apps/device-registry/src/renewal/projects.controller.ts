import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal, RequireScopes } from '@iip/platform-auth';
import { schemaPipe } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE, Page, ifMatchVersion, openApiSchema } from '@iip/platform-http';
import { RenewalScopes } from '../scopes';
import {
  CREATE_PROJECT_SCHEMA,
  CreateProjectInput,
  ListProjectsQuery,
  TRANSITION_SCHEMA,
  TransitionInput,
  UPDATE_PROJECT_SCHEMA,
  UpdateProjectInput,
  createProjectSchema,
  transitionSchema,
  updateProjectSchema,
} from './projects.dto';
import { ProjectView, ProjectsService } from './projects.service';

const uuid = new ParseUUIDPipe({ version: undefined });
const IF_MATCH = { name: 'If-Match', required: false, description: 'The version read ("3"); a stale one answers 409' };

@ApiTags('renewal')
@ApiBearerAuth()
@Controller('v1/renewal/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post()
  @RequireScopes(RenewalScopes.RenewalWrite)
  @ApiBody({ schema: openApiSchema(CREATE_PROJECT_SCHEMA) })
  @ApiOperation({
    summary: 'Open a renewal project (重点项目库): old devices of your subtree, the models replacing them, investment and funding',
  })
  create(@CurrentPrincipal() actor: Principal, @Body(schemaPipe(createProjectSchema)) body: CreateProjectInput): Promise<ProjectView> {
    return this.projects.create(actor, body);
  }

  @Get()
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiOperation({ summary: "Projects you see: your own and your subtree's; a park also its members' (summaries: no device or model ids)" })
  list(@CurrentPrincipal() actor: Principal, @Query() q: ListProjectsQuery): Promise<Page<ProjectView>> {
    return this.projects.list(actor, { tenantId: q.tenantId, status: q.status }, q.limit ?? DEFAULT_PAGE_SIZE, q.cursor);
  }

  @Get(':id')
  @RequireScopes(RenewalScopes.RenewalRead)
  @ApiOperation({ summary: 'A project you see (any other answers 404)' })
  get(@CurrentPrincipal() actor: Principal, @Param('id', uuid) id: string): Promise<ProjectView> {
    return this.projects.get(actor, id);
  }

  @Patch(':id')
  @RequireScopes(RenewalScopes.RenewalWrite)
  @ApiHeader(IF_MATCH)
  @ApiBody({ schema: openApiSchema(UPDATE_PROJECT_SCHEMA) })
  @ApiOperation({
    summary: 'Change name, devices and models (until installed), estimate, funding; actual investments per year from installed on',
  })
  update(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Body(schemaPipe(updateProjectSchema)) body: UpdateProjectInput,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<ProjectView> {
    return this.projects.update(actor, id, body, ifMatchVersion(ifMatch));
  }

  @Post(':id/transitions')
  @HttpCode(200)
  @RequireScopes(RenewalScopes.RenewalWrite)
  @ApiHeader(IF_MATCH)
  @ApiBody({ schema: openApiSchema(TRANSITION_SCHEMA) })
  @ApiOperation({ summary: 'One step forward: planned → approved → procured → installed → verified (any other step is 409)' })
  transition(
    @CurrentPrincipal() actor: Principal,
    @Param('id', uuid) id: string,
    @Body(schemaPipe(transitionSchema)) body: TransitionInput,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<ProjectView> {
    return this.projects.transition(actor, id, body, ifMatchVersion(ifMatch));
  }
}
