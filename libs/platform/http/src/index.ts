export * from './http-app';
export * from './pagination';
