import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TenantKind } from '@iip/platform-auth';
import { DEVICE_REGISTRY_DATA_SOURCE } from '../tenants/tenants.repository';
import { ThingModelDefinition } from '@iip/thing-model';

export interface ModelRow {
  tenantId: string;
  id: string;
  tenantPath: string[];
  tenantKind: TenantKind;
  name: string;
  description: string | null;
  createdAt: Date;
}

export interface ModelVersionRow {
  modelId: string;
  version: number;
  status: 'draft' | 'published';
  definition: ThingModelDefinition;
  publishedAt: Date | null;
  updatedAt: Date;
}

const MODEL_COLUMNS = `tenant_id AS "tenantId", id, tenant_path AS "tenantPath", tenant_kind AS "tenantKind", name, description, created_at AS "createdAt"`;
const VERSION_COLUMNS = `model_id AS "modelId", version, status, definition, published_at AS "publishedAt", updated_at AS "updatedAt"`;
/** Models a tenant may read: its own, its ancestors' (the platform's included) and those of tenants below it. */
const READABLE = `(m.tenant_id = ANY($1::uuid[]) OR m.tenant_path @> ARRAY[$2::uuid])`;

/** The only place that queries thing models and their versions. */
@Injectable()
export class ModelsRepository {
  constructor(@Inject(DEVICE_REGISTRY_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async insertModel(manager: EntityManager, row: Omit<ModelRow, 'createdAt'>, definition: ThingModelDefinition): Promise<void> {
    await manager.query(
      `INSERT INTO thing_models (tenant_id, id, tenant_path, tenant_kind, name, description) VALUES ($1, $2, $3, $4, $5, $6)`,
      [row.tenantId, row.id, row.tenantPath, row.tenantKind, row.name, row.description],
    );
    await this.saveDraft(manager, row.tenantId, row.id, 1, definition);
  }

  /** Writes a draft version: a new one, or new content for a draft (a published version is left as it is). */
  async saveDraft(
    manager: EntityManager,
    tenantId: string,
    modelId: string,
    version: number,
    definition: ThingModelDefinition,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO thing_model_versions (tenant_id, model_id, version, definition, status) VALUES ($1, $2, $3, $4::jsonb, 'draft')
       ON CONFLICT (tenant_id, model_id, version) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()
       WHERE thing_model_versions.status = 'draft'`,
      [tenantId, modelId, version, JSON.stringify(definition)],
    );
  }

  async publish(manager: EntityManager, tenantId: string, modelId: string, version: number): Promise<void> {
    await manager.query(
      `UPDATE thing_model_versions SET status = 'published', published_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND model_id = $2 AND version = $3 AND status = 'draft'`,
      [tenantId, modelId, version],
    );
  }

  /** A model the actor may read (by its path and id), or undefined: "not yours" reads as "not there". */
  async findReadable(
    actor: { id: string; path: string[] },
    id: string,
    manager?: EntityManager,
    lock = false,
  ): Promise<ModelRow | undefined> {
    const rows = await (manager ?? this.dataSource).query<ModelRow[]>(
      `SELECT ${MODEL_COLUMNS} FROM thing_models m WHERE m.id = $3 AND ${READABLE}${lock ? ' FOR UPDATE' : ''}`,
      [actor.path, actor.id, id],
    );
    return rows[0];
  }

  async listReadable(actor: { id: string; path: string[] }, limit: number, after?: string): Promise<ModelRow[]> {
    return this.dataSource.query<ModelRow[]>(
      `SELECT ${MODEL_COLUMNS} FROM thing_models m WHERE ${READABLE} AND ($3::uuid IS NULL OR m.id > $3) ORDER BY m.id LIMIT $4`,
      [actor.path, actor.id, after ?? null, limit],
    );
  }

  /** The versions of these models, each model's in version order. */
  versions(modelIds: string[], manager?: EntityManager): Promise<ModelVersionRow[]> {
    return (manager ?? this.dataSource).query<ModelVersionRow[]>(
      `SELECT ${VERSION_COLUMNS} FROM thing_model_versions WHERE model_id = ANY($1::uuid[]) ORDER BY model_id, version`,
      [modelIds],
    );
  }

  async version(modelId: string, version: number, manager?: EntityManager): Promise<ModelVersionRow | undefined> {
    const rows = await (manager ?? this.dataSource).query<ModelVersionRow[]>(
      `SELECT ${VERSION_COLUMNS} FROM thing_model_versions WHERE model_id = $1 AND version = $2`,
      [modelId, version],
    );
    return rows[0];
  }

  async latestPublished(modelId: string, manager?: EntityManager): Promise<ModelVersionRow | undefined> {
    const rows = await (manager ?? this.dataSource).query<ModelVersionRow[]>(
      `SELECT ${VERSION_COLUMNS} FROM thing_model_versions WHERE model_id = $1 AND status = 'published' ORDER BY version DESC LIMIT 1`,
      [modelId],
    );
    return rows[0];
  }
}
