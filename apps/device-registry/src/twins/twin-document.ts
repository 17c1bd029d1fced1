/**
 * Twin documents: JSON objects changed by JSON Merge Patch (RFC 7396: a member set replaces,
 * `null` removes, objects merge), with a metadata tree of the same shape whose leaves are the
 * time each leaf last changed.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Patched {
  document: JsonObject;
  metadata: JsonObject;
  changed: boolean;
}

export function applyMergePatch(document: JsonObject, metadata: JsonObject, patch: JsonObject, at: string): Patched {
  let changed = false;
  const merge = (doc: JsonObject, meta: JsonObject, p: JsonObject): [JsonObject, JsonObject] => {
    const outDoc: JsonObject = { ...doc };
    const outMeta: JsonObject = { ...meta };
    for (const [key, value] of Object.entries(p)) {
      if (value === null) {
        if (key in outDoc) {
          delete outDoc[key];
          delete outMeta[key];
          changed = true;
        }
      } else if (isObject(value)) {
        const [d, m] = merge(
          isObject(outDoc[key]) ? outDoc[key] : {},
          isObject(outMeta[key]) && isObject(outDoc[key]) ? outMeta[key] : {},
          value,
        );
        if (!isObject(outDoc[key])) changed = true;
        outDoc[key] = d;
        outMeta[key] = m;
      } else if (!deepEqual(outDoc[key], value)) {
        outDoc[key] = value;
        outMeta[key] = at;
        changed = true;
      }
    }
    return [outDoc, outMeta];
  };
  const [doc, meta] = merge(document, metadata, patch);
  return { document: doc, metadata: meta, changed };
}

/** What desired asks that reported does not (yet) say: desired's leaves that differ, in desired's shape. */
export function twinDelta(desired: JsonObject, reported: JsonObject): JsonObject {
  const delta: JsonObject = {};
  for (const [key, want] of Object.entries(desired)) {
    const have = reported[key];
    if (isObject(want) && isObject(have)) {
      const inner = twinDelta(want, have);
      if (Object.keys(inner).length > 0) delta[key] = inner;
    } else if (!deepEqual(want, have)) delta[key] = want;
  }
  return delta;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}
