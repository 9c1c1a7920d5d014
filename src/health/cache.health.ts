import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CacheService } from '../cache/index.js';

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
}
