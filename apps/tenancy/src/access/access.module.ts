import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { AccessService } from './access.service';
import { GrantsController } from './grants.controller';
import { TenancyGrpcController } from './tenancy.grpc-controller';

@Module({
  imports: [TenantsModule],
  controllers: [GrantsController, TenancyGrpcController],
  providers: [AccessService],
})
export class AccessModule {}
