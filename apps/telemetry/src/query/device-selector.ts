import { Inject, Injectable } from '@nestjs/common';
import { FieldError, RequestValidationError } from '@iip/platform-errors';
import { REGISTRY_CLIENT, RegistryClient } from '../registry/registry-client';

/** Devices named one by one, or chosen by where they are and what they are tagged. */
export interface DeviceSelection {
  deviceIds?: string[];
  /** The tag `site`. */
  site?: string;
  /** The tag `line`. */
  line?: string;
  tags?: Record<string, string>;
  /** A fleet query, as the device registry's GET /v1/fleet/devices?q= takes it. */
  query?: string;
}

/** Devices one request may name or select. */
export const MAX_SELECTED_DEVICES = 500;
export const MAX_SELECTOR_TAGS = 10;
/** Tag names the fleet query can name (tags.<name>). */
const TAG_NAME = /^[A-Za-z0-9_]{1,64}$/;
const PAGE = 250;

const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * The fleet query a selection stands for: site and line are the tags `site` and `line`, every
 * condition ANDed, the caller's own query in parentheses; values quoted, so a value is only ever
 * a value. Undefined when the selection names devices by id.
 */
export function fleetQueryOf(s: DeviceSelection): string | undefined {
  const bySelector = s.site !== undefined || s.line !== undefined || s.tags !== undefined || s.query !== undefined;
  if (s.deviceIds !== undefined && bySelector)
    throw new RequestValidationError([{ field: 'deviceIds', message: 'name devices or select them (site, line, tags, query), not both' }]);
  if (!bySelector) {
    if (s.deviceIds === undefined)
      throw new RequestValidationError([{ field: 'deviceIds', message: 'name devices or select them by site, line, tags or query' }]);
    return undefined;
  }
  const errors: FieldError[] = [];
  const tags: [string, string][] = [];
  if (s.site !== undefined) tags.push(['site', s.site]);
  if (s.line !== undefined) tags.push(['line', s.line]);
  const extra = Object.entries(s.tags ?? {});
  if (extra.length > MAX_SELECTOR_TAGS) errors.push({ field: 'tags', message: `at most ${MAX_SELECTOR_TAGS} tags` });
  for (const [name, value] of extra) {
    if (!TAG_NAME.test(name)) errors.push({ field: `tags.${name}`, message: 'tag names here are letters, digits and _ (1 to 64)' });
    else if (typeof value !== 'string' || value.length > 200)
      errors.push({ field: `tags.${name}`, message: 'must be a string of at most 200 characters' });
    else tags.push([name, value]);
  }
  if (errors.length > 0) throw new RequestValidationError(errors);
  const conditions = tags.map(([name, value]) => `tags.${name} = ${quoted(value)}`);
  if (s.query !== undefined && s.query.trim() !== '') conditions.push(`(${s.query})`);
  return conditions.join(' AND ');
}

/** Resolves a selection into device ids with the device registry, as the caller sees the fleet. */
@Injectable()
export class DeviceSelector {
  constructor(@Inject(REGISTRY_CLIENT) private readonly registry: RegistryClient) {}

  /** The devices a fleet query matches, up to MAX_SELECTED_DEVICES (more: a 400 asking for a narrower selection). */
  async resolve(authorization: string | undefined, query: string): Promise<string[]> {
    if (!authorization) throw new RequestValidationError([{ field: 'query', message: 'selecting devices needs a bearer token' }]);
    const ids: string[] = [];
    let cursor = '';
    do {
      const page = await this.registry.listDevices(authorization, query, PAGE, cursor);
      ids.push(...page.devices.map((d) => d.id));
      cursor = page.nextCursor;
      if (ids.length > MAX_SELECTED_DEVICES || (cursor && ids.length === MAX_SELECTED_DEVICES)) {
        throw new RequestValidationError([
          { field: 'query', message: `selects more than ${MAX_SELECTED_DEVICES} devices: narrow it (site, line, tags, query)` },
        ]);
      }
    } while (cursor);
    return ids;
  }
}
