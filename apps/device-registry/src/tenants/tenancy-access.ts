import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CallOptions, Metadata, ServiceError, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import { TenancyV1 } from '@iip/contracts';
import { AppLogger, InjectLogger } from '@iip/platform-observability';

export const TENANCY_ACCESS_SETTINGS = Symbol('TENANCY_ACCESS_SETTINGS');

/** The data scope a tenant grants to let another read its devices (POST /v1/tenants/{id}/grants at tenancy). */
export const DEVICES_READ_GRANT = 'devices:read';

type CheckAccess = (
  req: TenancyV1.CheckAccessRequest,
  md: Metadata,
  options: CallOptions,
  cb: (err: ServiceError | null, res?: TenancyV1.CheckAccessResponse) => void,
) => void;

/**
 * Explicit data grants, asked of tenancy (gRPC CheckAccess) with the caller's own token: a park
 * reads a member's devices only when the member granted it `devices:read`. Answers are kept one
 * second, so a revoked grant stops working within a second; tenancy unreachable means no grant.
 */
@Injectable()
export class TenancyAccess implements OnApplicationShutdown {
  private readonly client: { checkAccess: CheckAccess; close(): void };
  private readonly answers = new LRUCache<string, boolean>({ max: 10_000, ttl: 1_000 });

  constructor(
    @Inject(TENANCY_ACCESS_SETTINGS) settings: { grpcUrl: string },
    @InjectLogger() private readonly logger: AppLogger,
  ) {
    const Ctor = makeGenericClientConstructor(TenancyV1.TenancyServiceService, 'TenancyService');
    this.client = new Ctor(settings.grpcUrl, credentials.createInsecure()) as unknown as { checkAccess: CheckAccess; close(): void };
  }

  onApplicationShutdown(): void {
    this.client.close();
  }

  async granted(authorization: string | undefined, actorId: string, targetId: string, dataScope: string): Promise<boolean> {
    if (!authorization) return false;
    // The token only lets the caller ask; the answer is about the two tenants (the actor is the token's).
    const key = `${actorId}|${targetId}|${dataScope}`;
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    const md = new Metadata();
    md.set('authorization', authorization);
    const allowed = await new Promise<boolean>((resolve) => {
      this.client.checkAccess(
        { actorTenantId: actorId, targetTenantId: targetId, level: TenancyV1.AccessLevel.ACCESS_LEVEL_DATA, dataScope },
        md,
        { deadline: Date.now() + 2_000 },
        (err, res) => {
          if (err) this.logger.warn({ err: err.message }, 'tenancy CheckAccess failed; treated as no grant');
          resolve(!err && res?.allowed === true);
        },
      );
    });
    this.answers.set(key, allowed);
    return allowed;
  }
}
