export * from './auth.guard';
export * from './auth.module';
export * from './decorators';
export * from './principal';
export * from './revocation-events';
export * from './revocation-view';
export * from './tenant-context';
export * from './token-verifier';
