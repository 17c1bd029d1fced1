import { Controller } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { TenancyV1 } from '@iip/contracts';
import { RequireScopes, principalOf } from '@iip/platform-auth';
import { AccessLevel, AccessService } from './access.service';
import { Scopes } from '../oauth/scopes';
import { TenantView } from '../tenants/dto/tenant.dto';
import { TenantsService } from '../tenants/tenants.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireUuid(value: string, field: string): string {
  if (!UUID.test(value)) throw new RpcException({ code: GrpcStatus.INVALID_ARGUMENT, message: `${field} must be a UUID` });
  return value;
}

function toMessage(v: TenantView): TenancyV1.Tenant {
  const full = v.view === 'full' ? v : undefined;
  const administered = v.view === 'profile' ? undefined : v;
  return {
    id: v.id,
    kind: v.kind,
    parentId: v.parentId ?? '',
    path: full?.path ?? [],
    name: v.name,
    creditCode: v.creditCode,
    status: v.status,
    contact: { name: v.contact.name ?? '', email: v.contact.email ?? '', phone: v.contact.phone ?? '' },
    quotas: administered?.quotas,
    createdAt: full?.createdAt ?? '',
    updatedAt: full?.updatedAt ?? '',
    version: administered?.version ?? 0,
  };
}

const LEVELS: Partial<Record<TenancyV1.AccessLevel, AccessLevel>> = {
  [TenancyV1.AccessLevel.ACCESS_LEVEL_PROFILE]: 'profile',
  [TenancyV1.AccessLevel.ACCESS_LEVEL_DATA]: 'data',
  [TenancyV1.AccessLevel.ACCESS_LEVEL_MANAGE]: 'manage',
};

/** gRPC adapter: translates messages and delegates to the same service methods as REST. */
@Controller()
@TenancyV1.TenancyServiceControllerMethods()
export class TenancyGrpcController implements TenancyV1.TenancyServiceController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly access: AccessService,
  ) {}

  @RequireScopes(Scopes.TenantsRead)
  async getTenant(request: TenancyV1.GetTenantRequest, metadata: Metadata): Promise<TenancyV1.Tenant> {
    const principal = principalOf(metadata);
    return toMessage(await this.tenants.get(principal.tenant, requireUuid(request.tenantId, 'tenant_id')));
  }

  @RequireScopes(Scopes.TenantsRead)
  async listDescendants(request: TenancyV1.ListDescendantsRequest, metadata: Metadata): Promise<TenancyV1.ListDescendantsResponse> {
    const principal = principalOf(metadata);
    if (request.limit < 0 || request.limit > 200)
      throw new RpcException({ code: GrpcStatus.INVALID_ARGUMENT, message: 'limit must be 0..200' });
    const page = await this.tenants.listDescendants(
      principal.tenant,
      requireUuid(request.tenantId, 'tenant_id'),
      request.limit || undefined,
      request.cursor || undefined,
    );
    return { tenants: page.items.map(toMessage), nextCursor: page.nextCursor ?? '' };
  }

  @RequireScopes(Scopes.AccessCheck)
  async checkAccess(request: TenancyV1.CheckAccessRequest, metadata: Metadata): Promise<TenancyV1.CheckAccessResponse> {
    const principal = principalOf(metadata);
    const level = LEVELS[request.level];
    if (!level) throw new RpcException({ code: GrpcStatus.INVALID_ARGUMENT, message: 'level must be PROFILE, DATA or MANAGE' });
    const decision = await this.access.checkAccess(
      principal,
      requireUuid(request.actorTenantId, 'actor_tenant_id'),
      requireUuid(request.targetTenantId, 'target_tenant_id'),
      level,
      request.dataScope || undefined,
    );
    return { allowed: decision.allowed, relation: decision.relation };
  }
}
