import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Principal, canManage } from '@iip/platform-auth';
import { Page, encodeCursor, readCursor } from '@iip/platform-http';
import { DeviceRegistryError, DeviceRegistryErrorCode } from '../device-registry.errors';
import { targetTenant } from '../tenants/tenant-scope';
import { DEVICE_REGISTRY_DATA_SOURCE, TenantsRepository } from '../tenants/tenants.repository';
import { CompiledModels } from './compiled-models';
import { ModelRow, ModelVersionRow, ModelsRepository } from './models.repository';
import { CompiledModel, ThingModelDefinition, checkDefinition } from '@iip/thing-model';
import { TdImportError, exportThingDescription, importThingDescription } from './wot';

export interface ModelVersionSummary {
  version: number;
  status: 'draft' | 'published';
  publishedAt: string | null;
}

export interface ModelView {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  versions: ModelVersionSummary[];
  latestPublished: number | null;
  createdAt: string;
}

export interface ModelVersionView extends ModelVersionSummary {
  modelId: string;
  definition: ThingModelDefinition;
  updatedAt: string;
}

export const TD_SETTINGS = Symbol('TD_SETTINGS');
export interface TdSettings {
  publicUrl: string;
  tokenUrl: string;
}

/** A published model version and its compiled validators, as devices and twins use them. */
export interface UsableModel {
  model: ModelRow;
  version: ModelVersionRow;
  compiled: CompiledModel;
}

/** Thing models: drafts, immutable published versions, WoT TD import and export. */
@Injectable()
export class ModelsService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly tenants: TenantsRepository,
    private readonly compiledModels: CompiledModels,
    @Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(TD_SETTINGS) private readonly td: TdSettings,
  ) {}

  async create(
    actor: Principal,
    input: { tenantId?: string; name: string; description?: string; definition: unknown },
  ): Promise<ModelView> {
    const definition = checkDefinition(input.definition);
    return this.insert(actor, input.tenantId, input.name, input.description ?? null, definition);
  }

  async importTd(actor: Principal, input: { tenantId?: string; thingDescription: unknown }): Promise<ModelView & { notes: string[] }> {
    let imported;
    try {
      imported = importThingDescription(input.thingDescription);
    } catch (err) {
      if (!(err instanceof TdImportError)) throw err;
      throw new DeviceRegistryError(DeviceRegistryErrorCode.TD_NOT_IMPORTABLE, err.message, {
        problems: err.problems.map((p) => ({ field: `thingDescription.${p.field}`, message: p.message })),
      });
    }
    const view = await this.insert(actor, input.tenantId, imported.name, imported.description ?? null, imported.definition);
    return { ...view, notes: imported.notes };
  }

  private async insert(
    actor: Principal,
    tenantId: string | undefined,
    name: string,
    description: string | null,
    definition: ThingModelDefinition,
  ) {
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      const owner = await targetTenant(this.tenants, actor, tenantId, manager);
      await this.models.insertModel(
        manager,
        { tenantId: owner.id, id, tenantPath: owner.path, tenantKind: owner.kind, name, description },
        definition,
      );
    });
    return this.get(actor, id);
  }

  async get(actor: Principal, id: string): Promise<ModelView> {
    const model = await this.readable(actor, id);
    return viewOf(model, await this.models.versions([id]));
  }

  async list(actor: Principal, limit: number, cursor?: string): Promise<Page<ModelView>> {
    const after = cursor ? (readCursor(cursor, ['uuid'])[0] as string) : undefined;
    const rows = await this.models.listReadable(actor.tenant, limit + 1, after);
    const page = rows.slice(0, limit);
    // The page's versions in one query.
    const versions = await this.models.versions(page.map((m) => m.id));
    const items = page.map((m) =>
      viewOf(
        m,
        versions.filter((v) => v.modelId === m.id),
      ),
    );
    return { items, nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1].id]) : null };
  }

  async version(actor: Principal, id: string, version: number): Promise<ModelVersionView> {
    await this.readable(actor, id);
    const row = await this.models.version(id, version);
    if (!row) throw DeviceRegistryError.modelNotFound(id, version);
    return versionViewOf(row);
  }

  /** Replaces a draft, or opens the next version (the latest + 1) as a draft. A published version is immutable. */
  async putVersion(actor: Principal, id: string, version: number, input: unknown): Promise<ModelVersionView> {
    const definition = checkDefinition(input);
    await this.dataSource.transaction(async (manager) => {
      const model = await this.writable(actor, id, manager);
      const versions = await this.models.versions([id], manager);
      const existing = versions.find((v) => v.version === version);
      if (existing?.status === 'published') {
        throw new DeviceRegistryError(
          DeviceRegistryErrorCode.MODEL_VERSION_PUBLISHED,
          `Version ${version} of thing model ${id} is published and cannot change; put version ${versions.length + 1} instead`,
        );
      }
      if (!existing && version !== versions.length + 1) throw DeviceRegistryError.modelNotFound(id, version);
      await this.models.saveDraft(manager, model.tenantId, id, version, definition);
    });
    return this.version(actor, id, version);
  }

  async publish(actor: Principal, id: string, version: number): Promise<ModelVersionView> {
    await this.dataSource.transaction(async (manager) => {
      const model = await this.writable(actor, id, manager);
      const row = await this.models.version(id, version, manager);
      if (!row) throw DeviceRegistryError.modelNotFound(id, version);
      if (row.status === 'draft') await this.models.publish(manager, model.tenantId, id, version);
    });
    return this.version(actor, id, version);
  }

  async exportTd(actor: Principal, id: string, version: number): Promise<Record<string, unknown>> {
    const model = await this.readable(actor, id);
    const row = await this.models.version(id, version);
    if (!row) throw DeviceRegistryError.modelNotFound(id, version);
    return exportThingDescription({ id, name: model.name, description: model.description, version, definition: row.definition }, this.td);
  }

  /**
   * A published version a device of `owner` may use: the owner's own models, its ancestors'
   * and the platform's. Refused (422) for a draft, 404 for one it may not see.
   */
  async usable(
    owner: { id: string; path: string[] },
    id: string,
    version: number | undefined,
    manager?: EntityManager,
  ): Promise<UsableModel> {
    const model = await this.models.findReadable(owner, id, manager);
    if (!model || !owner.path.includes(model.tenantId)) throw DeviceRegistryError.modelNotFound(id);
    const row = version === undefined ? await this.models.latestPublished(id, manager) : await this.models.version(id, version, manager);
    if (!row) throw DeviceRegistryError.modelNotFound(id, version);
    if (row.status !== 'published') {
      throw new DeviceRegistryError(
        DeviceRegistryErrorCode.MODEL_VERSION_NOT_PUBLISHED,
        `Version ${row.version} of thing model ${id} is a draft; publish it before devices use it`,
      );
    }
    return { model, version: row, compiled: this.compiledModels.of(id, row.version, row.status, row.definition) };
  }

  /** The validators of the version a device pinned (published, so compiled once). */
  async compiledFor(modelId: string, version: number, manager?: EntityManager): Promise<CompiledModel> {
    const row = await this.models.version(modelId, version, manager);
    if (!row) throw DeviceRegistryError.modelNotFound(modelId, version);
    return this.compiledModels.of(modelId, row.version, row.status, row.definition);
  }

  private async readable(actor: Principal, id: string, manager?: EntityManager): Promise<ModelRow> {
    const model = await this.models.findReadable(actor.tenant, id, manager);
    if (!model) throw DeviceRegistryError.modelNotFound(id);
    return model;
  }

  /** The platform's models are everyone's to read, only the platform's to change. */
  private async writable(actor: Principal, id: string, manager: EntityManager): Promise<ModelRow> {
    const model = await this.models.findReadable(actor.tenant, id, manager, true);
    if (!model) throw DeviceRegistryError.modelNotFound(id);
    if (!canManage(actor.tenant, { id: model.tenantId, kind: model.tenantKind, path: model.tenantPath })) {
      throw new DeviceRegistryError(
        DeviceRegistryErrorCode.NOT_PERMITTED,
        `Thing model ${id} belongs to a tenant above yours; you may use it, not change it`,
      );
    }
    return model;
  }
}

function viewOf(model: ModelRow, versions: ModelVersionRow[]): ModelView {
  const published = versions.filter((v) => v.status === 'published');
  return {
    id: model.id,
    tenantId: model.tenantId,
    name: model.name,
    description: model.description,
    versions: versions.map((v) => ({ version: v.version, status: v.status, publishedAt: v.publishedAt?.toISOString() ?? null })),
    latestPublished: published.length ? published[published.length - 1].version : null,
    createdAt: model.createdAt.toISOString(),
  };
}

function versionViewOf(v: ModelVersionRow): ModelVersionView {
  return {
    modelId: v.modelId,
    version: v.version,
    status: v.status,
    publishedAt: v.publishedAt?.toISOString() ?? null,
    definition: v.definition,
    updatedAt: v.updatedAt.toISOString(),
  };
}
