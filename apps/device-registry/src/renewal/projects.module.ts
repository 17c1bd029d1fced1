import { DynamicModule, Module } from '@nestjs/common';
import { DevicesModule, ModelsModule, TenantsModule } from '../device-registry.module';
import { ExportsController } from './exports.controller';
import { ExportsService } from './exports.service';
import { ProjectsController } from './projects.controller';
import { ProjectsGrpcController } from './projects.grpc-controller';
import { ProjectsRepository } from './projects.repository';
import { ProjectsService } from './projects.service';
import { ReplacementController } from './replacement.controller';
import { ReplacementService } from './replacement.service';

/**
 * Renewal projects (重点项目库), the replacements they make, and the exports of projects and
 * indicators. `indicators` is the renewal module as the app imports it (the same instance: its
 * IndicatorsService answers the indicator exports).
 */
@Module({})
export class RenewalProjectsModule {
  static forRoot(indicators: DynamicModule): DynamicModule {
    return {
      module: RenewalProjectsModule,
      imports: [TenantsModule, ModelsModule, DevicesModule, indicators],
      controllers: [ProjectsController, ReplacementController, ProjectsGrpcController, ExportsController],
      providers: [ProjectsRepository, ProjectsService, ReplacementService, ExportsService],
    };
  }
}
