import { InitialTenancy1764489600000 } from './1764489600000-initial-tenancy';

export const tenancyMigrations = [InitialTenancy1764489600000];
