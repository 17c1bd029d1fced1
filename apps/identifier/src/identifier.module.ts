import { DynamicModule, Global, Module } from '@nestjs/common';
import { ServiceRuntime } from '@iip/platform-runtime';
import { IdempotencyService } from './identifiers/idempotency.service';
import { BatchRegistrationService } from './identifiers/batch-registration.service';
import { IdentifierQueriesService } from './identifiers/identifier-queries.service';
import { IdentifiersController } from './identifiers/identifiers.controller';
import { ResolutionStatsService } from './statistics/resolution-stats.service';
import { StatisticsController } from './statistics/statistics.controller';
import { TemplatesController } from './templates/templates.controller';
import { TemplatesRepository } from './templates/templates.repository';
import { TemplatesService } from './templates/templates.service';
import { IdentifiersRepository } from './identifiers/identifiers.repository';
import { IdentifiersService } from './identifiers/identifiers.service';
import { IdentifierOutbox } from './messaging/identifier-outbox';
import { PrefixesConsumer } from './prefixes/prefixes.consumer';
import { PrefixesController } from './prefixes/prefixes.controller';
import { IDENTIFIER_DATA_SOURCE, PrefixesRepository } from './prefixes/prefixes.repository';
import { NODE_SETTINGS, NodeSettings, PrefixesService } from './prefixes/prefixes.service';
import { HandleApiErrorFilter } from './resolution/handle-api.filter';
import { HandleApiFallbackController } from './resolution/handle-api-fallback.controller';
import { HandlesController } from './resolution/handles.controller';
import { IdentifierGrpcController } from './resolution/identifier.grpc-controller';
import { ResolutionService } from './resolution/resolution.service';
import { CACHE_SETTINGS, CacheSettings, IDENTIFIER_REDIS, RecordCache } from './resolution/record-cache';
import { ChangeFeedListener } from './resolution/change-feed.listener';
import { ChangeWatchService } from './resolution/change-watch.service';
import { REMOTE_SETTINGS, RemoteResolver, RemoteSettings } from './resolution/remote-resolver';
import { DelegationsController } from './prefixes/delegations.controller';
import { DelegationsRepository } from './prefixes/delegations.repository';
import { DelegationsService } from './prefixes/delegations.service';
import { BasicAuthenticator } from '@iip/platform-auth';
import { DeviceIdentifiersConsumer } from './devices/device-identifiers.consumer';
import { DeviceIdentifiersService } from './devices/device-identifiers.service';
import { HandleSessionsController } from './identities/handle-sessions.controller';
import { HandleIdentityAuthenticator } from './identities/handle-identity.authenticator';

/** The runtime's connections and the node's settings, shared by the feature modules. */
@Global()
@Module({})
export class IdentifierInfraModule {
  static forRoot(runtime: ServiceRuntime, node: NodeSettings, cache: CacheSettings, remote: RemoteSettings): DynamicModule {
    const providers = [
      { provide: REMOTE_SETTINGS, useValue: remote },
      { provide: IDENTIFIER_REDIS, useValue: runtime.redis },
      { provide: CACHE_SETTINGS, useValue: cache },
      { provide: ServiceRuntime, useValue: runtime },
      { provide: IDENTIFIER_DATA_SOURCE, useValue: runtime.dataSource },
      { provide: IdentifierOutbox, useValue: new IdentifierOutbox(runtime.outboxWriter) },
      { provide: NODE_SETTINGS, useValue: node },
    ];
    return { module: IdentifierInfraModule, providers, exports: providers.map((p) => p.provide) };
  }
}

@Module({
  controllers: [PrefixesController, DelegationsController],
  providers: [PrefixesRepository, PrefixesService, PrefixesConsumer, DelegationsRepository, DelegationsService],
  exports: [PrefixesService, DelegationsRepository],
})
export class PrefixesModule {}

@Module({
  controllers: [TemplatesController],
  providers: [TemplatesRepository, TemplatesService],
  exports: [TemplatesService, TemplatesRepository],
})
export class TemplatesModule {}

@Module({
  imports: [PrefixesModule, TemplatesModule],
  // The fallback last: it answers only what no route before it matched under /api/.
  controllers: [
    HandlesController,
    HandleSessionsController,
    IdentifierGrpcController,
    IdentifiersController,
    StatisticsController,
    HandleApiFallbackController,
  ],
  providers: [
    IdentifiersRepository,
    IdentifiersService,
    IdempotencyService,
    ResolutionStatsService,
    BatchRegistrationService,
    IdentifierQueriesService,
    ResolutionService,
    RecordCache,
    RemoteResolver,
    ChangeFeedListener,
    ChangeWatchService,
    HandleApiErrorFilter,
    HandleIdentityAuthenticator,
    DeviceIdentifiersService,
    DeviceIdentifiersConsumer,
    // Found by the global AuthGuard for routes marked @AcceptsBasicAuth() (Handle clients' handle identities).
    { provide: BasicAuthenticator, useExisting: HandleIdentityAuthenticator },
  ],
})
export class HandlesModule {}
