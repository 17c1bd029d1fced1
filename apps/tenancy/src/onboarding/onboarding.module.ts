import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { OnboardingController } from './onboarding.controller';
import { OnboardingRepository } from './onboarding.repository';
import { OnboardingService } from './onboarding.service';
import { OnboardingWorker } from './onboarding.worker';

@Module({
  imports: [TenantsModule],
  controllers: [OnboardingController],
  providers: [OnboardingRepository, OnboardingService, OnboardingWorker],
})
export class OnboardingModule {}
