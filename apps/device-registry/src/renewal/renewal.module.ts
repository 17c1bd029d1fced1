import { DynamicModule, Module } from '@nestjs/common';
import { TenantsModule } from '../device-registry.module';
import { CandidatesRepository } from './candidates.repository';
import { CandidatesService } from './candidates.service';
import { FactsConsumer } from './facts.consumer';
import { FactsRepository } from './facts.repository';
import { FactsService } from './facts.service';
import { IndicatorsRepository } from './indicators.repository';
import { IndicatorsService } from './indicators.service';
import { InvestmentsRepository } from './investments.repository';
import { InvestmentsService } from './investments.service';
import { RenewalController } from './renewal.controller';
import { RenewalGrpcController } from './renewal.grpc-controller';
import { RulesRepository } from './rules.repository';
import { RulesService } from './rules.service';
import { SnapshotsRepository } from './snapshots.repository';
import { SnapshotsService } from './snapshots.service';
import { SNAPSHOT_WORKER_SETTINGS, SnapshotsWorker } from './snapshots.worker';

export interface RenewalSettings {
  /** How often the worker checks for tenants still lacking this month's snapshot, ms. */
  snapshotPollMs: number;
}

/** Renewal: rules, the facts telemetry's events bring, candidates, the plan's indicators, snapshots and investments. */
@Module({})
export class RenewalModule {
  static forRoot(settings: RenewalSettings): DynamicModule {
    return {
      module: RenewalModule,
      imports: [TenantsModule],
      controllers: [RenewalController, RenewalGrpcController],
      providers: [
        { provide: SNAPSHOT_WORKER_SETTINGS, useValue: { pollIntervalMs: settings.snapshotPollMs } },
        RulesRepository,
        RulesService,
        FactsRepository,
        FactsService,
        FactsConsumer,
        CandidatesRepository,
        CandidatesService,
        IndicatorsRepository,
        IndicatorsService,
        InvestmentsRepository,
        InvestmentsService,
        SnapshotsRepository,
        SnapshotsService,
        SnapshotsWorker,
      ],
      // The exports (CSV/XLSX) of renewal projects read the same figures.
      exports: [IndicatorsService, CandidatesService, RulesService],
    };
  }
}
