import { InitialIdentifier1764576000000 } from './1764576000000-initial-identifier';

export const identifierMigrations = [InitialIdentifier1764576000000];
