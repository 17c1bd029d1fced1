export * from './service-runtime';
export * from './service-main';
