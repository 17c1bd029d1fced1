import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';
import { ClientsController, OAuthController } from './oauth.controller';
import { WhoAmIController } from './whoami.controller';
import { TokenService } from './token.service';

@Module({
  imports: [TenantsModule],
  controllers: [OAuthController, ClientsController, WhoAmIController],
  providers: [ClientsRepository, ClientsService, TokenService],
  exports: [ClientsService],
})
export class OAuthModule {}
