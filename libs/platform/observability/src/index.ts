export * from './health';
export * from './http-middleware';
export * from './logger';
export * from './metrics';
export * from './observability.module';
export * from './request-context';
