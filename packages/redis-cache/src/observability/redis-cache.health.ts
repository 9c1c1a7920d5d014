import { Injectable } from '@nestjs/common';
import type { CacheHealth, CacheStatus } from '../redis-cache.types.js';
import { RedisCacheService } from '../redis-cache.service.js';

/** A Terminus health indicator result (`HealthIndicatorResult`), typed here so Terminus stays an optional peer. */
export type CacheIndicatorResult<Key extends string, Details> = Record<
  Key,
  Details & { status: 'up' | 'down' }
>;

export interface CachePingCheckOptions {
  /** How long the PING may take before Redis counts as down (default 300 ms). */
  timeoutMs?: number;
  /**
   * Report `down` while Redis is down, instead of `up` with `backend: 'memory'`. Off by default: the cache keeps
   * serving from memory and the database, so a Redis outage is not a reason to take an instance out of rotation.
   */
  requireRedis?: boolean;
}

/**
 * The cache for `@nestjs/terminus`'s `HealthCheckService`: results in Terminus's shape (`{ [key]: { status, ...
 * details } }`), which its executor reads as up or down, without importing Terminus.
 *
 * @example
 * ```ts
 * @Get('health/cache')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.cacheHealth.pingCheck('cache')]);
 * }
 * ```
 */
@Injectable()
export class RedisCacheHealthIndicator {
  constructor(private readonly cache: RedisCacheService) {}

  /** Backend, Redis state, PING latency under a deadline, circuit, hit rate and L1 entries. Never throws. */
  async pingCheck<Key extends string>(
    key: Key,
    options: CachePingCheckOptions = {},
  ): Promise<CacheIndicatorResult<Key, CacheHealth>> {
    const health = await this.cache.health(options.timeoutMs ?? 300);
    const down = options.requireRedis === true && health.redis !== 'up';
    return { [key]: { ...health, status: down ? 'down' : 'up' } } as CacheIndicatorResult<Key, CacheHealth>;
  }

  /** Backend, Redis state and circuit, without touching the network (for readiness probes). */
  statusCheck<Key extends string>(
    key: Key,
    options: Pick<CachePingCheckOptions, 'requireRedis'> = {},
  ): CacheIndicatorResult<Key, CacheStatus> {
    const status = this.cache.status();
    const down = options.requireRedis === true && status.redis !== 'up';
    return { [key]: { ...status, status: down ? 'down' : 'up' } } as CacheIndicatorResult<Key, CacheStatus>;
  }
}
