import { SchemaObject } from 'ajv';
import { DEVICE_LIFECYCLE_STATES, DeviceLifecycleState } from '@iip/contracts';
import { FieldError, RequestValidationError, requestSchema } from '@iip/platform-errors';

/** Equipment categories the renewal analytics group by (GB/T equipment classes, simplified). */
export const EQUIPMENT_CATEGORIES = [
  'machine-tool',
  'pump',
  'boiler',
  'motor',
  'transformer',
  'compressor',
  'heat-exchanger',
  'chiller',
  'cooling-tower',
  'fan',
  'furnace',
  'injection-molding',
  'conveyor',
  'robot',
  'agv',
  'plc',
  'sensor',
  'gateway',
  'other',
] as const;
export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;

export interface EquipmentProfile {
  category?: (typeof EQUIPMENT_CATEGORIES)[number];
  /** YYYY-MM-DD */
  commissionedOn?: string;
  ratedPowerKw?: number;
  /** 1 advanced, 2 energy-saving, 3 access level (the national energy-efficiency grades). */
  efficiencyGrade?: 1 | 2 | 3;
  ncCapable?: boolean;
  keyProcess?: boolean;
  criticality?: (typeof CRITICALITIES)[number];
  /** Worse than the access level (below grade 3, 低于能效准入水平): must be eliminated, whatever its age. */
  belowAccessLevel?: boolean;
}

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
const TAGS: SchemaObject = {
  type: 'object',
  maxProperties: 50,
  propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' },
  additionalProperties: { type: 'string', maxLength: 200 },
  description: 'Up to 50 tags: names of letters, digits, _ . -; values strings',
};
const PROFILE: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    category: { enum: [...EQUIPMENT_CATEGORIES] },
    commissionedOn: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD' },
    ratedPowerKw: { type: 'number', minimum: 0, maximum: 1_000_000 },
    efficiencyGrade: { enum: [1, 2, 3], description: 'GB energy-efficiency grade: 1 advanced, 2 energy-saving, 3 access level' },
    ncCapable: { type: 'boolean', description: 'numerically controlled (数控)' },
    keyProcess: { type: 'boolean', description: 'runs a key process (关键工序)' },
    criticality: { enum: [...CRITICALITIES] },
    belowAccessLevel: {
      type: 'boolean',
      description:
        'worse than the energy-efficiency access level (低于能效准入水平): must be eliminated (renewal reason BELOW_ACCESS_LEVEL)',
    },
  },
};

export interface CreateDeviceInput {
  tenantId?: string;
  name: string;
  manufacturer: string;
  serial: string;
  model: { id: string; version?: number };
  status?: 'provisioned' | 'active';
  tags?: Record<string, string>;
  gatewayId?: string;
  profile?: EquipmentProfile;
}
export const CREATE_DEVICE_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'manufacturer', 'serial', 'model'],
  properties: {
    tenantId: { type: 'string', format: 'uuid', description: 'A tenant you manage; default: your own' },
    name: text(200),
    manufacturer: text(200),
    serial: { ...text(200), description: 'Unique per tenant and manufacturer' },
    model: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        version: { type: 'integer', minimum: 1, maximum: 2_147_483_647, description: 'A published version; default the latest' },
      },
    },
    status: { enum: ['provisioned', 'active'] },
    tags: TAGS,
    gatewayId: { type: 'string', format: 'uuid', description: 'The gateway device that speaks for this one' },
    profile: PROFILE,
  },
};
export const createDeviceSchema = checked<CreateDeviceInput>(CREATE_DEVICE_SCHEMA);

export interface UpdateDeviceInput {
  name?: string;
  tags?: Record<string, string>;
  gatewayId?: string | null;
  profile?: EquipmentProfile;
}
export const UPDATE_DEVICE_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: text(200),
    tags: TAGS,
    gatewayId: { type: ['string', 'null'], format: 'uuid' },
    profile: { ...PROFILE, description: 'Replaces the whole profile' },
  },
};
export const updateDeviceSchema = checked<UpdateDeviceInput>(UPDATE_DEVICE_SCHEMA);

export interface LifecycleInput {
  status: DeviceLifecycleState;
  reason?: string;
}
export const LIFECYCLE_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { enum: [...DEVICE_LIFECYCLE_STATES] }, reason: { type: 'string', maxLength: 500 } },
};
export const lifecycleSchema = checked<LifecycleInput>(LIFECYCLE_SCHEMA);

/** The schema's checks, then what it cannot say: a commissioning date is a real, past date. */
function checked<T extends object>(schema: SchemaObject) {
  const base = requestSchema<T>(schema);
  return {
    schema,
    check(value: unknown): T {
      const input = base.check(value);
      const problems: FieldError[] = [];
      const date = (input as { profile?: EquipmentProfile }).profile?.commissionedOn;
      if (date !== undefined) {
        const parsed = new Date(`${date}T00:00:00Z`);
        if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) {
          problems.push({ field: 'profile.commissionedOn', message: 'is not a real date (YYYY-MM-DD)' });
        } else if (parsed.getTime() > Date.now() + 86_400_000) {
          problems.push({ field: 'profile.commissionedOn', message: 'is in the future' });
        } else if (parsed.getUTCFullYear() < 1900) {
          problems.push({ field: 'profile.commissionedOn', message: 'is before 1900' });
        }
      }
      if (problems.length) throw new RequestValidationError(problems);
      return input;
    },
  };
}

export const COUNT_FIELDS = ['status', 'category', 'model', 'tenant', 'efficiencyGrade', 'criticality'] as const;
export type CountField = (typeof COUNT_FIELDS)[number];
