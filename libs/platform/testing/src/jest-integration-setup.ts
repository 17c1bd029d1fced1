import 'reflect-metadata';

// Integration and e2e specs start services and brokers: give hooks and tests room.
jest.setTimeout(90_000);
