import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DataGrantCheck } from '@iip/platform-auth';
import { AppLogger, InjectLogger } from '@iip/platform-observability';

export const TENANCY_ACCESS_SETTINGS = Symbol('TENANCY_ACCESS_SETTINGS');

/** The data scope a tenant grants to let another read its devices (POST /v1/tenants/{id}/grants at tenancy). */
export const DEVICES_READ_GRANT = 'devices:read';

/** The platform's data-grant check, as the registry's provider: a park reads a member's devices only when the member granted it `devices:read`. */
@Injectable()
export class TenancyAccess extends DataGrantCheck implements OnApplicationShutdown {
  constructor(@Inject(TENANCY_ACCESS_SETTINGS) settings: { grpcUrl: string }, @InjectLogger() logger: AppLogger) {
    super(settings.grpcUrl, logger);
  }

  onApplicationShutdown(): void {
    this.close();
  }
}
