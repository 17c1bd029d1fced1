export * from './broadcast-listener';
export * from './envelope';
export * from './idempotent-consumer';
export * from './kafka-client';
export * from './outbox';
export * from './outbox-replay';
export * from './replaying-listener';
export * from './batch-consumer';
