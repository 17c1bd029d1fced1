export * from './thing-model';
export * from './ucum';
