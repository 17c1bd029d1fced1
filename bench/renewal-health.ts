/**
 * Part of `npm run bench -- renewal`: health evaluations per second in telemetry's stream, next
 * to the same stream without them. The maintenance part of the work replaces this body.
 */
export async function benchHealth(): Promise<void> {
  console.log('health: measured by the maintenance part (not built yet)');
}
