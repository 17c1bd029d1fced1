import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { CommandEventData, CommandStatus, EventSources, TelemetryEventTypes, Topics } from '@iip/contracts';
import { Principal, canManage } from '@iip/platform-auth';
import { RequestValidationError } from '@iip/platform-errors';
import { OutboxWriter, createEnvelope } from '@iip/platform-kafka';
import { DevicesRepository, KnownDevice } from '../devices/devices.repository';
import { REGISTRY_CLIENT, RegistryClient } from '../registry/registry-client';
import { TELEMETRY_OUTBOX } from '../rules/rule-engine';
import { TelemetryError, TelemetryErrorCode } from '../telemetry.errors';
import { TELEMETRY_DATA_SOURCE } from '../tenants/tenants.repository';

/** A command as its API answers: the event's fields (but the tenant) and when it was delivered and settled. */
export type CommandView = Omit<CommandEventData, 'tenantId'> & { deliveredAt: string | null; completedAt: string | null };

interface CommandRow {
  tenantId: string;
  id: string;
  deviceId: string;
  name: string;
  input: Record<string, unknown>;
  status: CommandStatus;
  output: Record<string, unknown> | null;
  error: string | null;
  requestedAt: Date;
  expiresAt: Date;
  deliveredAt: Date | null;
  completedAt: Date | null;
}

const COLUMNS = `tenant_id AS "tenantId", id, device_id AS "deviceId", name, input, status, output, error, requested_at AS "requestedAt",
  expires_at AS "expiresAt", delivered_at AS "deliveredAt", completed_at AS "completedAt"`;

/** The longest a command may wait for its answer (a device offline for a week gets nothing older). */
export const MAX_COMMAND_TIMEOUT_S = 7 * 86_400;
export const DEFAULT_COMMAND_TIMEOUT_S = 30;

/** What a device receives on iip/v1/{deviceId}/commands/{name}. */
export function commandMessage(c: { id: string; name: string; input: Record<string, unknown>; expiresAt: string }): string {
  return JSON.stringify({ id: c.id, name: c.name, input: c.input, expiresAt: c.expiresAt });
}

/**
 * Commands to devices: checked against the device's thing model, kept in PostgreSQL until the
 * device takes them (it may be offline: it gets them when it subscribes), answered by the device
 * on iip/v1/{deviceId}/commands/{name}/response, or timed out. Every change goes out on
 * iip.telemetry.command.v1 in the same transaction (the outbox), which is also how the instance
 * holding the device's connection hears of a new command.
 */
@Injectable()
export class CommandsService {
  constructor(
    @Inject(TELEMETRY_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(TELEMETRY_OUTBOX) private readonly outbox: OutboxWriter,
    @Inject(REGISTRY_CLIENT) private readonly registry: RegistryClient,
    private readonly devices: DevicesRepository,
  ) {}

  async request(
    actor: Principal,
    deviceId: string,
    name: string,
    body: { input?: Record<string, unknown>; timeoutSeconds?: number },
  ): Promise<CommandView> {
    const device = await this.managed(actor, deviceId);
    if (device.status === 'suspended' || device.status === 'decommissioned') {
      throw new TelemetryError(TelemetryErrorCode.DEVICE_NOT_ACTIVE, `Device ${deviceId} is ${device.status}; it takes no commands`);
    }
    const model = await this.registry.model(device.modelId, device.modelVersion);
    const check = model.compiled.commandInput(name);
    if (!check) throw new RequestValidationError([{ field: 'name', message: `the device's thing model has no command ${name}` }]);
    const input = body.input ?? {};
    const errors = check(input, 'input');
    if (errors.length > 0) throw new RequestValidationError(errors);
    const timeout = body.timeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_S;
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<CommandRow[]>(
        `INSERT INTO commands (tenant_id, id, device_id, name, input, status, requested_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, now() + make_interval(secs => $7)) RETURNING ${COLUMNS}`,
        [device.tenantId, randomUUID(), device.id, name, input, actor.clientId, timeout],
      );
      await this.announce(manager, TelemetryEventTypes.CommandRequested, row);
      return view(row);
    });
  }

  async get(actor: Principal, deviceId: string, commandId: string): Promise<CommandView> {
    const device = await this.managed(actor, deviceId);
    const rows = await this.dataSource.query<CommandRow[]>(
      `SELECT ${COLUMNS} FROM commands WHERE tenant_id = $1 AND id = $2 AND device_id = $3`,
      [device.tenantId, commandId, device.id],
    );
    if (!rows[0]) throw new TelemetryError(TelemetryErrorCode.COMMAND_NOT_FOUND, `Command ${commandId} not found`);
    return view(rows[0]);
  }

  async list(
    actor: Principal,
    deviceId: string,
    q: { status?: CommandStatus; limit: number; before?: Date },
  ): Promise<{ items: CommandView[]; nextCursor: string | null }> {
    const device = await this.managed(actor, deviceId);
    const rows = await this.dataSource.query<CommandRow[]>(
      `SELECT ${COLUMNS} FROM commands WHERE tenant_id = $1 AND device_id = $2 AND ($3::text IS NULL OR status = $3)
          AND ($4::timestamptz IS NULL OR requested_at < $4) ORDER BY requested_at DESC LIMIT $5`,
      [device.tenantId, device.id, q.status ?? null, q.before ?? null, q.limit + 1],
    );
    const page = rows.slice(0, q.limit);
    return { items: page.map(view), nextCursor: rows.length > q.limit ? page[page.length - 1].requestedAt.toISOString() : null };
  }

  /** Commands a device has not answered yet and that have not expired, oldest first (what it gets when it subscribes). */
  async open(deviceId: string, name?: string): Promise<{ id: string; name: string; input: Record<string, unknown>; expiresAt: string }[]> {
    const rows = await this.dataSource.query<CommandRow[]>(
      `SELECT ${COLUMNS} FROM commands WHERE device_id = $1 AND status IN ('queued', 'delivered') AND expires_at > now()
          AND ($2::text IS NULL OR name = $2) ORDER BY requested_at LIMIT 1000`,
      [deviceId, name ?? null],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, input: r.input, expiresAt: r.expiresAt.toISOString() }));
  }

  /** The device PUBACKed the command. */
  async delivered(deviceId: string, commandId: string): Promise<void> {
    await this.transition(
      `UPDATE commands SET status = 'delivered', delivered_at = now() WHERE device_id = $1 AND id = $2 AND status = 'queued'`,
      [deviceId, commandId],
      TelemetryEventTypes.CommandDelivered,
    );
  }

  /**
   * The device's answer on iip/v1/{deviceId}/commands/{name}/response: `{id, status: succeeded|failed, output?, error?}`,
   * the output checked against the model. An answer to a command that is already settled (timed out, answered) is refused.
   */
  async answer(device: KnownDevice, name: string, payload: unknown): Promise<void> {
    const body = payload as { id?: unknown; status?: unknown; output?: unknown; error?: unknown };
    const invalid = (message: string) => new TelemetryError(TelemetryErrorCode.PAYLOAD_INVALID, message);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw invalid('a command response is a JSON object {id, status, output?, error?}');
    if (typeof body.id !== 'string' || !UUID.test(body.id)) throw invalid('id: the id of the command answered (a UUID)');
    if (body.status !== 'succeeded' && body.status !== 'failed') throw invalid('status: succeeded or failed');
    const output = body.output ?? null;
    if (output !== null && (typeof output !== 'object' || Array.isArray(output))) throw invalid('output: a JSON object');
    if (body.error !== undefined && typeof body.error !== 'string') throw invalid('error: a string');
    if (output !== null && body.status === 'succeeded') {
      const model = await this.registry.model(device.modelId, device.modelVersion);
      const errors = model.compiled.commandOutput(name)?.(output, 'output') ?? [];
      if (errors.length > 0) throw invalid(errors.map((e) => `${e.field} ${e.message}`).join('; '));
    }
    const changed = await this.transition(
      `UPDATE commands SET status = $3, output = $4, error = $5, completed_at = now()
        WHERE device_id = $1 AND id = $2 AND name = $6 AND status IN ('queued', 'delivered') AND expires_at > now()`,
      [device.id, body.id, body.status, output, typeof body.error === 'string' ? body.error.slice(0, 2000) : null, name],
      body.status === 'succeeded' ? TelemetryEventTypes.CommandSucceeded : TelemetryEventTypes.CommandFailed,
    );
    if (!changed)
      throw new TelemetryError(TelemetryErrorCode.COMMAND_NOT_FOUND, `Command ${body.id} is not open (unknown, answered or timed out)`);
  }

  /** Commands past their time without an answer time out (whichever instance comes first takes each). */
  async expire(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<CommandRow[]>(
        `WITH due AS (
           SELECT tenant_id, id FROM commands WHERE status IN ('queued', 'delivered') AND expires_at <= now()
            ORDER BY expires_at LIMIT 500 FOR UPDATE SKIP LOCKED
         ),
         changed AS (
           UPDATE commands c SET status = 'timed-out', completed_at = now() FROM due
            WHERE c.tenant_id = due.tenant_id AND c.id = due.id RETURNING c.*
         )
         SELECT ${COLUMNS} FROM changed`,
      );
      for (const row of rows) await this.announce(manager, TelemetryEventTypes.CommandTimedOut, row);
      return rows.length;
    });
  }

  private async transition(sql: string, params: unknown[], type: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<CommandRow[]>(`WITH changed AS (${sql} RETURNING *) SELECT ${COLUMNS} FROM changed`, params);
      if (rows[0]) await this.announce(manager, type, rows[0]);
      return rows.length > 0;
    });
  }

  private async managed(actor: Principal, deviceId: string): Promise<KnownDevice> {
    const device = await this.devices.find(deviceId);
    if (!device || !canManage(actor.tenant, { id: device.tenantId, kind: device.tenantKind, path: device.tenantPath })) {
      throw TelemetryError.deviceNotFound(deviceId);
    }
    return device;
  }

  private async announce(manager: EntityManager, type: string, row: CommandRow): Promise<void> {
    const { deliveredAt: _delivered, completedAt: _completed, ...fields } = view(row);
    const data: CommandEventData = { ...fields, tenantId: row.tenantId };
    await this.outbox.append(manager, Topics.telemetryCommand, [
      createEnvelope({ type, source: EventSources.telemetry, tenantId: row.tenantId, subject: row.deviceId, data }),
    ]);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function iso(d: Date | null): string | null {
  return d ? new Date(d).toISOString() : null;
}

function view(r: CommandRow): CommandView {
  return {
    id: r.id,
    deviceId: r.deviceId,
    name: r.name,
    input: r.input,
    status: r.status,
    output: r.output,
    error: r.error,
    requestedAt: new Date(r.requestedAt).toISOString(),
    expiresAt: new Date(r.expiresAt).toISOString(),
    deliveredAt: iso(r.deliveredAt),
    completedAt: iso(r.completedAt),
  };
}
