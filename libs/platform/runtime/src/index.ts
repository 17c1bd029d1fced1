export * from './service-runtime';
export * from './service-main';
export * from './polling-worker';
