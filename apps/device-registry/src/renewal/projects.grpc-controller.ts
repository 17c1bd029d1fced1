import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { RENEWAL_PROJECT_STATUSES, RenewalProjectStatus, RenewalProjectsV1 } from '@iip/contracts';
import { RequireScopes, principalOf } from '@iip/platform-auth';
import { RequestValidationError, uuidField } from '@iip/platform-errors';
import { DEFAULT_PAGE_SIZE } from '@iip/platform-http';
import { DeviceScopes, RenewalScopes } from '../scopes';
import { createProjectSchema, replacementSchema, transitionSchema } from './projects.dto';
import { ReplacementRow } from './projects.repository';
import { ProjectView, ProjectsService } from './projects.service';
import { ReplacementService } from './replacement.service';

/** gRPC adapter of renewal projects: the same service methods (and the same request schemas) as the REST API. */
@Controller()
@RenewalProjectsV1.RenewalProjectsServiceControllerMethods()
export class ProjectsGrpcController implements RenewalProjectsV1.RenewalProjectsServiceController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly replacements: ReplacementService,
  ) {}

  @RequireScopes(RenewalScopes.RenewalWrite)
  async create(request: RenewalProjectsV1.CreateRenewalProjectRequest, metadata: Metadata): Promise<RenewalProjectsV1.RenewalProject> {
    const input = createProjectSchema.check({
      ...(request.tenantId ? { tenantId: request.tenantId } : {}),
      name: request.name,
      ...(request.description ? { description: request.description } : {}),
      deviceIds: request.deviceIds,
      modelIds: request.modelIds,
      estimatedInvestmentCny: request.estimatedInvestmentCny,
      funding: request.funding,
    });
    return projectMessage(await this.projects.create(principalOf(metadata), input));
  }

  @RequireScopes(RenewalScopes.RenewalRead)
  async get(request: RenewalProjectsV1.GetRenewalProjectRequest, metadata: Metadata): Promise<RenewalProjectsV1.RenewalProject> {
    return projectMessage(await this.projects.get(principalOf(metadata), uuidField(request.id, 'id')));
  }

  @RequireScopes(RenewalScopes.RenewalRead)
  async list(
    request: RenewalProjectsV1.ListRenewalProjectsRequest,
    metadata: Metadata,
  ): Promise<RenewalProjectsV1.ListRenewalProjectsResponse> {
    if (request.limit < 0 || request.limit > 200) throw new RequestValidationError([{ field: 'limit', message: 'must be 0..200' }]);
    if (request.status && !RENEWAL_PROJECT_STATUSES.includes(request.status as RenewalProjectStatus))
      throw new RequestValidationError([{ field: 'status', message: `must be one of ${RENEWAL_PROJECT_STATUSES.join(', ')}` }]);
    const page = await this.projects.list(
      principalOf(metadata),
      {
        tenantId: request.tenantId ? uuidField(request.tenantId, 'tenant_id') : undefined,
        status: (request.status || undefined) as RenewalProjectStatus | undefined,
      },
      request.limit || DEFAULT_PAGE_SIZE,
      request.cursor || undefined,
    );
    return { projects: page.items.map(projectMessage), nextCursor: page.nextCursor ?? '' };
  }

  @RequireScopes(RenewalScopes.RenewalWrite)
  async transition(
    request: RenewalProjectsV1.TransitionRenewalProjectRequest,
    metadata: Metadata,
  ): Promise<RenewalProjectsV1.RenewalProject> {
    if (request.expectedVersion < 0) throw new RequestValidationError([{ field: 'expected_version', message: 'must not be negative' }]);
    const input = transitionSchema.check({
      to: request.to,
      ...(request.actualInvestments.length ? { actualInvestments: request.actualInvestments } : {}),
    });
    const view = await this.projects.transition(
      principalOf(metadata),
      uuidField(request.id, 'id'),
      input,
      request.expectedVersion || undefined,
    );
    return projectMessage(view);
  }

  @RequireScopes(RenewalScopes.RenewalWrite, DeviceScopes.DevicesWrite)
  async registerReplacement(
    request: RenewalProjectsV1.RegisterReplacementRequest,
    metadata: Metadata,
  ): Promise<RenewalProjectsV1.RenewalReplacement> {
    const input = replacementSchema.check({ oldDeviceId: request.oldDeviceId, newDeviceId: request.newDeviceId });
    return replacementMessage(await this.replacements.register(principalOf(metadata), uuidField(request.projectId, 'project_id'), input));
  }
}

function replacementMessage(r: ReplacementRow): RenewalProjectsV1.RenewalReplacement {
  return { ...r, oldHandle: r.oldHandle ?? '', newHandle: r.newHandle ?? '' };
}

function projectMessage(p: ProjectView): RenewalProjectsV1.RenewalProject {
  return {
    id: p.id,
    tenantId: p.tenantId,
    name: p.name,
    description: p.description ?? '',
    status: p.status,
    view: p.view,
    deviceIds: p.deviceIds ?? [],
    modelIds: p.modelIds ?? [],
    deviceCount: p.deviceCount,
    replacedCount: p.replacedCount,
    estimatedInvestmentCny: p.estimatedInvestmentCny,
    actualInvestments: p.actualInvestments,
    actualInvestmentCny: p.actualInvestmentCny ?? 0,
    funding: p.funding,
    history: p.history,
    replacements: (p.replacements ?? []).map(replacementMessage),
    version: p.version,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
