import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { CurrentPrincipal, Principal } from '@iip/platform-auth';
import { CountPoint, ResolutionStatsService } from './resolution-stats.service';

export class StatisticsQuery {
  @ApiProperty({ example: '88.100.1000' }) @IsString() @MaxLength(64) prefix!: string;
  @ApiPropertyOptional({ enum: ['hour', 'day'], default: 'hour' }) @IsOptional() @IsIn(['hour', 'day']) granularity?: 'hour' | 'day';
  @ApiPropertyOptional({ description: 'ISO 8601; default 24 hours before `to`' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'ISO 8601; default now' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
}

@ApiTags('statistics')
@ApiBearerAuth()
@Controller('v1/statistics')
export class StatisticsController {
  constructor(private readonly stats: ResolutionStatsService) {}

  @Get('resolutions')
  @ApiOperation({ summary: 'Resolutions of a prefix per hour or per day' })
  async resolutions(
    @CurrentPrincipal() p: Principal,
    @Query() q: StatisticsQuery,
  ): Promise<{ prefix: string; granularity: string; items: CountPoint[] }> {
    const to = q.to ? new Date(q.to) : new Date(Date.now() + 3600_000);
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 25 * 3600_000);
    const granularity = q.granularity ?? 'hour';
    return { prefix: q.prefix, granularity, items: await this.stats.series(p, q.prefix, granularity, from, to) };
  }
}
