import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Principal, canManage, generateSecret, hashSecret, verifySecret } from '@iip/platform-auth';
import { inTransaction } from '@iip/platform-database';
import { DEFAULT_PAGE_SIZE, Page, pageOf, readCursor } from '@iip/platform-http';
import { TenancyOutbox } from '../messaging/tenancy-outbox';
import { TenancyError, TenancyErrorCode } from '../tenancy.errors';
import { TENANCY_DATA_SOURCE } from '../tenants/tenants.repository';
import { TenantsService, tenantRef } from '../tenants/tenants.service';
import { ClientsRepository } from './clients.repository';
import { ClientView, CreateClientDto, CreatedClientView } from './dto/client.dto';
import { OAuthClientEntity } from './oauth-client.entity';

export function clientView(c: OAuthClientEntity): ClientView {
  return {
    clientId: c.clientId,
    tenantId: c.tenantId,
    name: c.name,
    scopes: c.scopes,
    status: c.status,
    createdAt: c.createdAt.toISOString(),
    revokedAt: c.revokedAt?.toISOString() ?? null,
    lastUsedAt: c.lastUsedAt?.toISOString() ?? null,
  };
}

export const newClientId = () => `iipc_${randomBytes(12).toString('base64url')}`;

/** OAuth2 clients of a tenant. Managing them is private to the tenant and those above it. */
@Injectable()
export class ClientsService {
  constructor(
    @Inject(TENANCY_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly clients: ClientsRepository,
    private readonly tenants: TenantsService,
    private readonly outbox: TenancyOutbox,
  ) {}

  private async manageable(actor: Principal, tenantId: string) {
    const tenant = await this.tenants.getVisible(actor.tenant, tenantId);
    // A park sees its members' profiles, not their clients: answer as if nothing were there.
    if (!canManage(actor.tenant, tenantRef(tenant))) throw TenancyError.tenantNotFound(tenantId);
    return tenant;
  }

  async create(actor: Principal, tenantId: string, input: CreateClientDto): Promise<CreatedClientView> {
    const tenant = await this.manageable(actor, tenantId);
    const notHeld = input.scopes.filter((s) => !actor.scopes.has(s));
    if (notHeld.length > 0) {
      throw new TenancyError(TenancyErrorCode.SCOPE_NOT_GRANTABLE, `You cannot hand out scopes you do not hold: ${notHeld.join(' ')}`, {
        scopes: notHeld,
      });
    }
    const secret = generateSecret();
    const entity = Object.assign(new OAuthClientEntity(), {
      clientId: newClientId(),
      tenantId: tenant.id,
      name: input.name.trim(),
      secretHash: await hashSecret(secret),
      scopes: input.scopes,
      status: 'active' as const,
      createdBy: actor.clientId,
      revokedAt: null,
      lastUsedAt: null,
    });
    const saved = await this.clients.insert(entity);
    return { ...clientView(saved), clientSecret: secret };
  }

  async list(actor: Principal, tenantId: string, limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<Page<ClientView>> {
    await this.manageable(actor, tenantId);
    let after: { createdAt: string; clientId: string } | undefined;
    if (cursor) {
      const [createdAt, clientId] = readCursor(cursor, ['timestamp', 'key']) as string[];
      after = { createdAt, clientId };
    }
    const page = pageOf(await this.clients.listForTenant(tenantId, limit + 1, after), limit, (c) => [
      c.createdAt.toISOString(),
      c.clientId,
    ]);
    return {
      items: page.rows.map(clientView),
      nextCursor: page.nextCursor,
    };
  }

  async revoke(actor: Principal, tenantId: string, clientId: string): Promise<void> {
    await this.manageable(actor, tenantId);
    // The ClientRevoked event commits with the revocation: every service then refuses the client's tokens.
    const revoked = await inTransaction(this.dataSource, async (manager) => {
      if (!(await this.clients.revoke(tenantId, clientId, manager))) return false;
      await this.outbox.clientRevoked(manager, { clientId, tenantId }, new Date());
      return true;
    });
    if (!revoked) {
      const existing = await this.clients.findById(clientId);
      if (!existing || existing.tenantId !== tenantId) {
        throw new TenancyError(TenancyErrorCode.CLIENT_NOT_FOUND, `Client ${clientId} was not found`);
      }
    }
  }

  /**
   * The platform operator's client: created from OPERATOR_CLIENT_ID/SECRET when given (the
   * environment wins over a stored secret), or generated once. Returns the secret only when generated.
   */
  async ensureOperatorClient(
    platformTenantId: string,
    scopes: readonly string[],
    given?: { clientId: string; secret: string },
  ): Promise<{ clientId: string; generatedSecret?: string }> {
    if (given) {
      const existing = await this.clients.findById(given.clientId);
      if (!existing) {
        await this.clients.insert(this.operatorEntity(platformTenantId, given.clientId, await hashSecret(given.secret), scopes));
      } else if (
        !(await verifySecret(given.secret, existing.secretHash)) ||
        existing.status !== 'active' ||
        !sameSet(existing.scopes, scopes)
      ) {
        await this.clients.setSecretHash(given.clientId, await hashSecret(given.secret), [...scopes]);
      }
      return { clientId: given.clientId };
    }
    // Every later start finds the client: only the very first one pays for hashing a secret.
    const existing = await this.clients.listForTenant(platformTenantId, 1);
    if (existing.length > 0) return { clientId: existing[0].clientId };
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    return this.clients.withLock('iip-tenancy:operator-client', async (manager) => {
      // Instances starting together: only the first creates the client.
      const current = await this.clients.listForTenant(platformTenantId, 1, undefined, manager);
      if (current.length > 0) return { clientId: current[0].clientId };
      const clientId = newClientId();
      await this.clients.insert(this.operatorEntity(platformTenantId, clientId, secretHash, scopes), manager);
      return { clientId, generatedSecret: secret };
    });
  }

  private operatorEntity(tenantId: string, clientId: string, secretHash: string, scopes: readonly string[]) {
    return Object.assign(new OAuthClientEntity(), {
      clientId,
      tenantId,
      name: 'Platform operator',
      secretHash,
      scopes: [...scopes],
      status: 'active' as const,
      createdBy: null,
      revokedAt: null,
      lastUsedAt: null,
    });
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
