export * from './domain-error';
export * from './http-problem.filter';
export * from './problem';
export * from './validation';
export * from './json-schema';
export * from './input-safety';
export * from './input-safety.guard';
