import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { TelemetryV1, WorkOrderStatus } from '@iip/contracts';
import { RequireScopes, principalOf } from '@iip/platform-auth';
import { RequestValidationError, uuidField } from '@iip/platform-errors';
import { TelemetryScopes } from '../scopes';
import { MaintenanceService } from './maintenance.service';

const STATUSES: readonly string[] = ['open', 'in-progress', 'closed'];

/** gRPC adapter: the same service methods as the REST API. */
@Controller()
@TelemetryV1.MaintenanceServiceControllerMethods()
export class MaintenanceGrpcController implements TelemetryV1.MaintenanceServiceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  @RequireScopes(TelemetryScopes.TelemetryRead)
  async getHealth(request: TelemetryV1.GetHealthRequest, metadata: Metadata): Promise<TelemetryV1.DeviceHealth> {
    const h = await this.maintenance.health(principalOf(metadata), uuidField(request.deviceId, 'device_id'));
    return {
      deviceId: h.deviceId,
      score: h.score,
      zone: h.zone,
      vibrationRms: h.vibrationRms,
      hasTrend: h.trend !== null,
      trendPerDay: h.trend?.perDay ?? 0,
      trendLow: h.trend?.low ?? 0,
      trendHigh: h.trend?.high ?? 0,
      hasRemaining: h.remainingDays !== null,
      remainingDays: h.remainingDays?.estimate ?? 0,
      remainingDaysLow: h.remainingDays?.low ?? 0,
      remainingDaysHigh: h.remainingDays?.high ?? 0,
      asOf: h.asOf,
      evaluatedAt: h.evaluatedAt,
      workOrderId: h.workOrderId ?? '',
    };
  }

  @RequireScopes(TelemetryScopes.TelemetryRead)
  async listWorkOrders(request: TelemetryV1.ListWorkOrdersRequest, metadata: Metadata): Promise<TelemetryV1.ListWorkOrdersResponse> {
    const errors = [];
    if (request.status && !STATUSES.includes(request.status))
      errors.push({ field: 'status', message: 'must be open, in-progress or closed' });
    if (request.limit < 0 || request.limit > 500) errors.push({ field: 'limit', message: 'must be 1 … 500 (0 for 100)' });
    if (errors.length > 0) throw new RequestValidationError(errors);
    const orders = await this.maintenance.listWorkOrders(principalOf(metadata), {
      status: (request.status || undefined) as WorkOrderStatus | undefined,
      deviceId: request.deviceId ? uuidField(request.deviceId, 'device_id') : undefined,
      limit: request.limit || 100,
    });
    return {
      workOrders: orders.map((o) => ({
        id: o.id,
        tenantId: o.tenantId,
        deviceId: o.deviceId,
        status: o.status,
        reason: o.reason,
        dueDate: o.dueDate,
        outcome: o.outcome ?? '',
        openedAt: o.openedAt,
        closedAt: o.closedAt ?? '',
        version: o.version,
        predictions: o.predictions,
      })),
    };
  }
}
