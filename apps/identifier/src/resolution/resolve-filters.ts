import { CachedValue } from './record-cache';

/** The Handle API's `type=` and `index=` filters of a resolution. */
export interface ResolveFilters {
  /** Exact types, or a type ending in "." for it and its subtypes. */
  types: string[];
  indexes: number[];
}

export function matchesFilters(value: Pick<CachedValue, 'idx' | 'type'>, filters: ResolveFilters): boolean {
  if (filters.types.length === 0 && filters.indexes.length === 0) return true;
  if (filters.indexes.includes(value.idx)) return true;
  const type = value.type.toLowerCase();
  return filters.types.some((t) => {
    const wanted = t.toLowerCase();
    return wanted.endsWith('.') ? type === wanted.slice(0, -1) || type.startsWith(wanted) : type === wanted;
  });
}
