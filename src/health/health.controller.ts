import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { RedisCacheHealthIndicator } from '@jobboard/redis-cache';
import { DatabaseHealthIndicator } from './database.health.js';

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
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /**
   * The cache: backend, Redis state and PING time, circuit, hit rate, entries in this process. Up while the cache
   * can serve, from Redis or from memory (always, since L1 and the database take over).
   */
  @Get('cache')
  @HealthCheck()
  cacheHealth() {
    return this.health.check([() => this.cache.pingCheck('cache', { timeoutMs: CACHE_PING_TIMEOUT_MS })]);
  }

  /**
   * What a load balancer routes by: 200 while this instance can answer, the database down included (its cached
   * pages keep answering for the grace period, marked STALE); 503 only during the shutdown drain. Every instance
   * shares the database, so taking them all out of rotation when it fails would turn a partial outage into a total one.
   */
  @Get('serving')
  @HealthCheck()
  serving() {
    return this.health.check([
      () => this.database.serving('database'),
      () => this.cache.statusCheck('cache'),
    ]);
  }

  /** Strict readiness: 503 while the database does not answer (deploy gates, orchestrators). Redis never fails it. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database.check('database'), () => this.cache.statusCheck('cache')]);
  }
}
