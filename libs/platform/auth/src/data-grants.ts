import { CallOptions, Metadata, ServiceError, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import { TenancyV1 } from '@iip/contracts';

type CheckAccess = (
  req: TenancyV1.CheckAccessRequest,
  md: Metadata,
  options: CallOptions,
  cb: (err: ServiceError | null, res?: TenancyV1.CheckAccessResponse) => void,
) => void;

/**
 * Explicit data grants (POST /v1/tenants/{id}/grants at tenancy), asked of tenancy's gRPC
 * CheckAccess with the caller's own token (it needs `access:check`): whether the device's
 * tenant granted the caller's tenant a kind of data. Answers are kept one second, so a revoked
 * grant stops working within a second; tenancy unreachable means no grant.
 */
export class DataGrantCheck {
  private readonly client: { checkAccess: CheckAccess; close(): void };
  private readonly answers = new LRUCache<string, boolean>({ max: 10_000, ttl: 1_000 });

  constructor(
    tenancyGrpcUrl: string,
    private readonly logger: { warn(obj: object, msg: string): void },
  ) {
    const Ctor = makeGenericClientConstructor(TenancyV1.TenancyServiceService, 'TenancyService');
    this.client = new Ctor(tenancyGrpcUrl, credentials.createInsecure()) as unknown as { checkAccess: CheckAccess; close(): void };
  }

  close(): void {
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
