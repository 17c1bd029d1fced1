import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { CompiledModel, ThingModelDefinition, compileModel } from '@iip/thing-model';

export const MODEL_CACHE_SETTINGS = Symbol('MODEL_CACHE_SETTINGS');

/**
 * Published model versions compiled once into their validators (a published version never
 * changes, so an entry is never stale); drafts are compiled each time they are used.
 */
@Injectable()
export class CompiledModels {
  private readonly cache: LRUCache<string, CompiledModel>;

  constructor(@Inject(MODEL_CACHE_SETTINGS) settings: { size: number }) {
    this.cache = new LRUCache({ max: settings.size });
  }

  of(modelId: string, version: number, status: 'draft' | 'published', definition: ThingModelDefinition): CompiledModel {
    if (status === 'draft') return compileModel(definition);
    const key = `${modelId}@${version}`;
    let compiled = this.cache.get(key);
    if (!compiled) this.cache.set(key, (compiled = compileModel(definition)));
    return compiled;
  }
}
