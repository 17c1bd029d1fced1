export * from './http-app';
export * from './pagination';
export * from './conditional';
export * from './openapi-schema';
