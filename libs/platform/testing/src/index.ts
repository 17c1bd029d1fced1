export * from './infra-check';
export * from './kafka-probe';
export * from './test-environment';
export * from './bad-input-suite';
