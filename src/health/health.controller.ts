import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService } from '@nestjs/terminus';
import { RedisCacheHealthIndicator } from '@jobboard/redis-cache';
import { DatabaseHealthIndicator } from './database.health.js';
import { HealthEndpoint } from './health-endpoint.decorator.js';

/** How long `/health/cache` waits for Redis's PING: a frozen Redis is reported as down well under a second. */
const CACHE_PING_TIMEOUT_MS = 300;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly cache: RedisCacheHealthIndicator,
  ) {}

  /** Liveness: the process serves HTTP. Touches nothing else. */
  @Get()
  @HealthEndpoint()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }

  /**
   * The cache: backend, Redis state and PING time, circuit, hit rate, entries in this process. Up while the cache
   * can serve, from Redis or from memory (always, since L1 and the database take over).
   */
  @Get('cache')
  @HealthEndpoint()
  @ApiOperation({ summary: 'Cache tiers: Redis reachability and circuit state' })
  cacheHealth() {
    return this.health.check([() => this.cache.pingCheck('cache', { timeoutMs: CACHE_PING_TIMEOUT_MS })]);
  }

  /**
   * What a load balancer routes by: 200 while this instance can answer, the database down included (its cached
   * pages keep answering for the grace period, marked STALE); 503 only during the shutdown drain. Every instance
   * shares the database, so taking them all out of rotation when it fails would turn a partial outage into a total one.
   */
  @Get('serving')
  @HealthEndpoint()
  @ApiOperation({ summary: 'Serving: answers can be given (from the database or the cache)' })
  serving() {
    return this.health.check([
      () => this.database.serving('database'),
      () => this.cache.statusCheck('cache'),
    ]);
  }

  /** Strict readiness: 503 while the database does not answer (deploy gates, orchestrators). Redis never fails it. */
  @Get('ready')
  @HealthEndpoint()
  @ApiOperation({ summary: 'Readiness: the database answers' })
  ready() {
    return this.health.check([() => this.database.check('database'), () => this.cache.statusCheck('cache')]);
  }
}
