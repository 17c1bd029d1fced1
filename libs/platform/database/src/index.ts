export * from './database';
export * from './copy';
