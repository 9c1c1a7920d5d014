import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CacheService } from '@jobboard/redis-cache';

const PING_DEADLINE_MS = 300;

/**
 * The cache's part of readiness: always `up`, because the app serves without Redis (from L1 and the database); the
 * details say where reads come from, whether Redis is connected and the circuit's state. Touches no network.
 */
@Injectable()
export class CacheHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly cache: CacheService,
  ) {}

  check(key: string) {
    return this.health.check(key).up(this.cache.status());
  }

  /**
   * `/health/cache`: up while the cache can serve, from Redis or from memory (always, since L1 and the database
   * take over), with a PING under a deadline so that a frozen Redis is reported in well under a second.
   */
  async detailed(key: string) {
    return this.health.check(key).up(await this.cache.health(PING_DEADLINE_MS));
  }
}
