import { Module } from '@nestjs/common';
import { DataGrantsRepository } from '../access/data-grants.repository';
import { TenantsController } from './tenants.controller';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

// Grants are provided here, not in AccessModule: reading a tenant consults them (a grantee sees
// the grantor's profile), and AccessModule already imports this module.
@Module({
  controllers: [TenantsController],
  providers: [TenantsRepository, DataGrantsRepository, TenantsService],
  exports: [TenantsRepository, DataGrantsRepository, TenantsService],
})
export class TenantsModule {}
