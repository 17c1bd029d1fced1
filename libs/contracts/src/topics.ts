/** Kafka topic names: `iip.<service>.<aggregate>.v1`. A deployment may prefix them (KAFKA_TOPIC_PREFIX). */
export const Topics = {
  tenancyTenant: 'iip.tenancy.tenant.v1',
  /** OAuth2 client lifecycle (ClientRevoked), apart from tenant events so tenant consumers never see them. */
  tenancyClient: 'iip.tenancy.client.v1',
  identifierIdentifier: 'iip.identifier.identifier.v1',
  identifierPrefix: 'iip.identifier.prefix.v1',
  deviceRegistryDevice: 'iip.device-registry.device.v1',
  /** Credential issue and revocation: every registry instance drops its cached verdicts on it. */
  deviceRegistryCredential: 'iip.device-registry.credential.v1',
  /** Twin changes (telemetry delivers desired changes to devices). */
  deviceRegistryTwin: 'iip.device-registry.twin.v1',
  /** Accepted telemetry, keyed by device: written by the ingest endpoints once validated, stored by the batched writer. */
  telemetryPoints: 'iip.telemetry.points.v1',
  /** Alarms raised, acknowledged, cleared and shelved (keyed by alarm id). */
  telemetryAlarm: 'iip.telemetry.alarm.v1',
  /** Commands to devices requested, delivered, answered and timed out (keyed by device id): every endpoint instance delivers to the devices it holds. */
  telemetryCommand: 'iip.telemetry.command.v1',
  /** Events devices sent (a thing model's events: a fault, a door opened), keyed by device id. */
  telemetryThingEvent: 'iip.telemetry.thing-event.v1',
  /** A device sent data in an hour (at most one event per device and hour): the registry's networking rate. */
  telemetryActivity: 'iip.telemetry.activity.v1',
  /** Health predictions and maintenance work orders of rotating equipment (keyed by device id). */
  telemetryMaintenance: 'iip.telemetry.maintenance.v1',
  /** Renewal projects and their changes (keyed by project id). */
  deviceRegistryRenewal: 'iip.device-registry.renewal.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

/** The `source` of events each service emits. */
export const EventSources = {
  tenancy: 'iip.tenancy',
  identifier: 'iip.identifier',
  deviceRegistry: 'iip.device-registry',
  telemetry: 'iip.telemetry',
} as const;
