import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { findUnsafeStrings, jsonDepthExceeds } from '@iip/platform-errors';

import type { EventEnvelope } from '@iip/contracts';

export type { EventEnvelope };

const envelopeSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  source: z.string().min(1).max(200),
  tenantId: z.string().min(1).max(200),
  time: z.string().datetime({ offset: true }),
  subject: z.string().min(1).max(500),
  dataVersion: z.string().min(1).max(20),
  data: z.unknown(),
});

/**
 * A new envelope. Its identifying fields are checked here (a batch makes thousands, so by hand
 * rather than through the schema): an event no consumer could read is its producer's bug,
 * refused here — rolling its transaction back — rather than published.
 */
export function createEnvelope<T>(
  fields: Omit<EventEnvelope<T>, 'id' | 'time' | 'dataVersion'> & Partial<Pick<EventEnvelope<T>, 'id' | 'time' | 'dataVersion'>>,
): EventEnvelope<T> {
  for (const field of ['type', 'source', 'tenantId', 'subject'] as const) {
    const value: unknown = fields[field];
    if (typeof value !== 'string' || value.length === 0) throw new Error(`invalid ${String(fields.type)} envelope: ${field} is missing`);
  }
  return {
    id: fields.id ?? randomUUID(),
    time: fields.time ?? new Date().toISOString(),
    dataVersion: fields.dataVersion ?? '1',
    type: fields.type,
    source: fields.source,
    tenantId: fields.tenantId,
    subject: fields.subject,
    data: fields.data,
  };
}

export class MalformedEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEnvelopeError';
  }
}

/** Parses a message value; a value that is not a valid envelope can never succeed, so it is dead-lettered. */
export function parseEnvelope(value: Buffer | null): EventEnvelope {
  if (!value || value.length === 0) throw new MalformedEnvelopeError('the message has no value');
  if (jsonDepthExceeds(value)) throw new MalformedEnvelopeError('the message value is nested too deeply');
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    throw new MalformedEnvelopeError('the message value is not JSON');
  }
  const result = envelopeSchema.safeParse(json);
  if (!result.success) {
    throw new MalformedEnvelopeError(
      'the message is not an event envelope: ' + result.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; '),
    );
  }
  // The same rule as every other transport: such strings never reach a store or a peer.
  const unsafe = findUnsafeStrings(result.data, '');
  if (unsafe.length > 0) {
    throw new MalformedEnvelopeError('the message has unusable strings: ' + unsafe.map((u) => `${u.field} ${u.message}`).join('; '));
  }
  return result.data;
}
