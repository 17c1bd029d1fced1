import { CanActivate, ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { DataSource } from 'typeorm';
import { invalidTokenError, principalOf } from '@iip/platform-auth';
import { TENANCY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { ClientsRepository } from './clients.repository';

/**
 * Management operations (clients, grants, keys) do not rely on the revocation view alone,
 * which lags while Kafka is away: they read the caller's state in PostgreSQL. The calling
 * client must still be active and no tenant on its path suspended, else 401 as for a revoked token.
 * Runs after the global auth guard, so the principal is there.
 */
@Injectable()
export class LiveCallerGuard implements CanActivate {
  private readonly clients: ClientsRepository;
  private readonly tenants: TenantsRepository;

  // The repositories are built here rather than injected so the guard works on the controllers
  // of any feature module (grants live in AccessModule, clients in OAuthModule) without re-wiring them.
  constructor(@Inject(TENANCY_DATA_SOURCE) dataSource: DataSource) {
    this.clients = new ClientsRepository(dataSource);
    this.tenants = new TenantsRepository(dataSource);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const carrier =
      context.getType() === 'rpc' ? context.switchToRpc().getContext<Metadata>() : context.switchToHttp().getRequest<object>();
    const principal = principalOf(carrier);
    const [client, suspended] = await Promise.all([
      this.clients.findById(principal.clientId),
      this.tenants.anySuspendedOnPath(principal.tenant.path),
    ]);
    if (!client || client.status !== 'active' || client.tenantId !== principal.tenant.id) {
      throw invalidTokenError(context, 'the client of this token has been revoked');
    }
    if (suspended) throw invalidTokenError(context, 'the tenant of this token (or one above it) is suspended');
    return true;
  }
}

/** The caller's client and tenants are checked live in PostgreSQL before the operation runs. */
export const RequireLiveCaller = () => UseGuards(LiveCallerGuard);
