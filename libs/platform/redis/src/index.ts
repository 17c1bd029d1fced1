export * from './redis';
export { default as Redis } from 'ioredis';
