/**
 * Every message on the backbone is this CloudEvents-shaped envelope; the Kafka key is the
 * aggregate id (`subject`) so one aggregate's events stay in order.
 */
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  source: string;
  tenantId: string;
  time: string;
  subject: string;
  dataVersion: string;
  data: T;
}
