import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { CacheHealthIndicator } from './cache.health.js';
import { DatabaseHealthIndicator } from './database.health.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly cache: CacheHealthIndicator,
  ) {}

  /** Liveness: the process serves HTTP. Touches nothing else. */
  @Get()
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** The cache: backend, Redis state and PING time, circuit, hit rate, entries in this process. */
  @Get('cache')
  @HealthCheck()
  cacheHealth() {
    return this.health.check([() => this.cache.detailed('cache')]);
  }

  /** Readiness: 503 while the database does not answer. A Redis outage is reported, never unready. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database.check('database'), () => this.cache.check('cache')]);
  }
}
