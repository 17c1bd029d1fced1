import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RenewalEventTypes, RenewalProjectStatus } from '@iip/contracts';
import { Principal, canManage } from '@iip/platform-auth';
import { DeviceRow } from '../devices/devices.repository';
import { DevicesService } from '../devices/devices.service';
import { DeviceRegistryOutbox } from '../messaging/device-registry-outbox';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { ReplacementInput } from './projects.dto';
import { RenewalProjectError, RenewalProjectErrorCode } from './projects.errors';
import { ProjectRecord, ProjectsRepository, ReplacementRow } from './projects.repository';
import { ProjectsService, tenantOf } from './projects.service';

/** Steps at which new equipment goes in: bought, and not yet accepted. */
const REPLACING_AT: readonly RenewalProjectStatus[] = ['procured', 'installed'];

/**
 * A new device replaces an old one of a renewal project: in one transaction the old device is
 * decommissioned (the lifecycle's own step, so its event and the indicators' counters follow),
 * both devices record the link, and their events carry each other's handle.
 */
@Injectable()
export class ReplacementService {
  constructor(
    private readonly projectsService: ProjectsService,
    private readonly projects: ProjectsRepository,
    private readonly devices: DevicesService,
    private readonly outbox: DeviceRegistryOutbox,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /** Registers the replacement; the same one again answers what was registered. */
  async register(actor: Principal, projectId: string, input: ReplacementInput): Promise<ReplacementRow> {
    await this.dataSource.transaction(async (manager) => {
      const project = await this.projectsService.managedForChange(actor, projectId, manager);
      if (input.oldDeviceId === input.newDeviceId) throw invalid('newDeviceId', 'is the old device itself');
      // Both locked in id order, so replacements touching the same devices cannot deadlock.
      const [first, second] = [input.oldDeviceId, input.newDeviceId].sort();
      const locked = new Map<string, DeviceRow>();
      for (const id of [first, second]) locked.set(id, await this.devices.managedRow(actor, id, manager));
      const old = locked.get(input.oldDeviceId) as DeviceRow;
      const replacement = locked.get(input.newDeviceId) as DeviceRow;

      const earlier = (await this.projects.replacementOf(manager, old.id)) ?? (await this.projects.replacementOf(manager, replacement.id));
      if (earlier) {
        if (earlier.projectId === projectId && earlier.oldDeviceId === old.id && earlier.newDeviceId === replacement.id) return;
        throw new RenewalProjectError(
          RenewalProjectErrorCode.REPLACEMENT_CONFLICT,
          `Device ${earlier.oldDeviceId} was replaced by ${earlier.newDeviceId} already`,
          { oldDeviceId: earlier.oldDeviceId, newDeviceId: earlier.newDeviceId },
        );
      }
      if (!REPLACING_AT.includes(project.status)) {
        throw new RenewalProjectError(
          RenewalProjectErrorCode.PROJECT_STATE_CONFLICT,
          `Renewal project ${projectId} is ${project.status}: devices are replaced once it is procured, until it is verified`,
          { status: project.status },
        );
      }
      const record = (await this.projects.record(projectId, manager)) as ProjectRecord;
      if (!record.deviceIds.includes(old.id)) throw invalid('oldDeviceId', 'is not a device this project renews');
      if (!record.modelIds.includes(replacement.modelId)) throw invalid('newDeviceId', 'is not of a model this project names');
      if (!canManage(tenantOf(project), { id: replacement.tenantId, kind: replacement.tenantKind, path: replacement.tenantPath }))
        throw invalid('newDeviceId', `is not a device of tenant ${project.tenantId} or its subtree`);
      if (replacement.status === 'decommissioned') throw invalid('newDeviceId', 'is decommissioned');

      await this.devices.recordReplacement(manager, old, replacement);
      await this.projects.insertReplacement(manager, project, old.id, replacement.id, actor.clientId);
      await this.projects.update(manager, { ...project, version: project.version + 1 });
      const made = (await this.projects.replacementOf(manager, old.id)) as ReplacementRow;
      await this.outbox.renewalChanged(manager, RenewalEventTypes.RenewalReplacementRegistered, {
        projectId,
        tenantId: project.tenantId,
        oldDeviceId: old.id,
        newDeviceId: replacement.id,
        oldHandle: old.handle,
        newHandle: replacement.handle,
        at: made.at,
        by: made.by,
      });
    });
    const view = await this.projectsService.get(actor, projectId);
    return (view.replacements ?? []).find((r) => r.oldDeviceId === input.oldDeviceId) as ReplacementRow;
  }
}

function invalid(field: string, message: string): RenewalProjectError {
  return new RenewalProjectError(
    RenewalProjectErrorCode.REPLACEMENT_INVALID,
    `The replacement does not fit the project: ${field} ${message}`,
    {
      problems: [{ field, message }],
    },
  );
}
