import type { RedisCacheService } from '@jobboard/redis-cache';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Metrics of the cross-instance guarantees: fleet single-flight leases and the invalidation outbox (issue 13).
 * Read from the cache's stats when scraped; the outbox figures are the relay's last look (once a second).
 */
export function registerCoherenceMetrics(registry: Registry, cache: RedisCacheService): void {
  const registers = [registry];
  new Counter({
    name: 'cache_leases_total',
    help: 'Fleet single-flight: misses that won the lease (ran the handler), waited for another instance, or waited in vain.',
    labelNames: ['result'] as const,
    registers,
    collect() {
      this.reset();
      const { leasesWon, leasesWaited, leasesExpired } = cache.stats().totals;
      this.inc({ result: 'won' }, leasesWon);
      this.inc({ result: 'waited' }, leasesWaited);
      this.inc({ result: 'expired' }, leasesExpired);
    },
  });
  new Counter({
    name: 'cache_redis_failovers_total',
    help: 'Redis master changes this instance followed (Sentinel); each one distrusts what the old master vouched for.',
    registers,
    collect() {
      this.reset();
      this.inc(cache.stats().topology.failovers);
    },
  });
  const outbox = () => cache.stats().outbox;
  new Gauge({
    name: 'cache_outbox_depth',
    help: 'Invalidations waiting in the outbox (recorded by an instance that could not reach Redis).',
    registers,
    collect() {
      this.set(outbox()?.depth ?? 0);
    },
  });
  new Gauge({
    name: 'cache_outbox_oldest_age_seconds',
    help: 'Age of the oldest invalidation waiting in the outbox (0 when empty).',
    registers,
    collect() {
      this.set((outbox()?.oldestAgeMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'cache_outbox_relay_lag_seconds',
    help: 'Time between recording and applying the last invalidation this instance relayed.',
    registers,
    collect() {
      this.set((outbox()?.lastLagMs ?? 0) / 1000);
    },
  });
  const counters = [
    ['cache_outbox_recorded_total', 'Invalidations this instance recorded in the outbox.', 'recorded'],
    ['cache_outbox_applied_total', 'Outbox records this instance applied to Redis.', 'applied'],
    [
      'cache_outbox_record_failures_total',
      'Invalidations this instance could store neither in Redis nor in the outbox (kept in memory, retried).',
      'recordFailures',
    ],
  ] as const;
  for (const [name, help, field] of counters)
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(outbox()?.[field] ?? 0);
      },
    });
}
