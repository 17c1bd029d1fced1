import { Controller, DynamicModule, Get, Global, Header, Inject, Module, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@iip/platform-auth';
import { HealthRegistry } from './health';
import { AppLogger } from './logger';
import { Metrics } from './metrics';

export const LOGGER = Symbol('LOGGER');

@ApiExcludeController()
@Public()
@Controller()
class HealthController {
  constructor(private readonly health: HealthRegistry) {}

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() res: Response) {
    const report = await this.health.readiness();
    res.status(report.status === 'error' ? 503 : 200).json(report);
  }
}

@ApiExcludeController()
@Public()
@Controller()
class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

/** Logger, metrics and health endpoints for one service. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: { logger: AppLogger; metrics: Metrics; health: HealthRegistry }): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: Metrics, useValue: options.metrics },
        { provide: HealthRegistry, useValue: options.health },
      ],
      exports: [LOGGER, Metrics, HealthRegistry],
    };
  }
}

export const InjectLogger = () => Inject(LOGGER);
