import { Injectable } from '@nestjs/common';
import { WindowCounters, type WindowCount } from './counters/window-counters.js';
import { CacheRegistry } from './decorators/cache-registry.js';
import { InvalidKeyPatternError } from './errors.js';
import { afterCommit } from './invalidation/after-commit.js';
import { Invalidator } from './invalidation/invalidator.js';
import { OutboxRelay } from './invalidation/outbox-relay.js';
import { RedisTopology } from './storage/redis-topology.js';
import { parseKeyPattern } from './keys/cache-key.util.js';
import { KeySpace } from './keys/key-space.js';
import { NamedCaches } from './named/named-caches.js';
import type { NamedCache, NamespaceOptions } from './named/named-cache.types.js';
import { CacheCounters } from './observability/cache-counters.js';
import { CacheEvents } from './observability/cache-events.js';
import type { Ttl } from './keys/ttl.util.js';
import type { CircuitState } from './resilience/circuit-breaker.js';
import { RedisGateway } from './resilience/redis-gateway.js';
import type {
  CacheBackend,
  CacheHealth,
  CacheStats,
  CacheStatus,
  RedisCacheEvents,
  RedisState,
} from './redis-cache.types.js';
import { L1Tier } from './tiers/l1-tier.js';
import { TieredCache } from './tiers/tiered-cache.js';

/** Reads come from Redis only while it answers and the circuit is closed; otherwise from process memory. */
const servingFrom = (redis: RedisState, circuit: CircuitState): CacheBackend =>
  redis === 'up' && circuit === 'closed' ? 'redis' : 'memory';

/**
 * The cache from code: invalidation outside the decorators, status and health for probes, statistics for
 * dashboards, and events for metrics. Injectable anywhere once `RedisCacheModule` is imported (globally with
 * `isGlobal: true`).
 */
@Injectable()
export class RedisCacheService {
  constructor(
    private readonly registry: CacheRegistry,
    private readonly invalidator: Invalidator,
    private readonly tiers: TieredCache,
    private readonly gateway: RedisGateway,
    private readonly keys: KeySpace,
    private readonly l1: L1Tier,
    private readonly counters: CacheCounters,
    private readonly events: CacheEvents,
    private readonly named: NamedCaches,
    private readonly relay: OutboxRelay,
    private readonly topology: RedisTopology,
    private readonly windows: WindowCounters,
  ) {}

  /**
   * A typed cache for service data, in a namespace of its own with its own TTL, optionally per tenant: the same
   * two tiers, invalidation, coherence and fault behaviour as cached routes. Cheap: call it once and keep the handle.
   *
   * @example
   * ```ts
   * const embeddings = cache.namespace<Float32Array>('embeddings', { ttl: '1h' });
   * const vector = await embeddings.wrap(sha256(text), () => model.embed(text), { tenant: schoolId });
   * ```
   * @throws CacheConfigurationError for a name that is not 1-64 of `A-Za-z0-9_.-`, or bad options; InvalidTtlError.
   */
  namespace<T = unknown>(name: string, options: NamespaceOptions<T>): NamedCache<T> {
    return this.named.namespace(name, options);
  }

  /**
   * Where reads are served from right now, without touching the network: `redis` while Redis is connected and the
   * circuit closed, `memory` (L1, or the memory store when Redis is not configured) otherwise.
   */
  status(): CacheStatus {
    const redis = this.gateway.state;
    const circuit = this.gateway.circuit.state;
    return { backend: servingFrom(redis, circuit), redis, circuit };
  }

  /**
   * What `/health/cache` reports: where reads are served from, Redis's state and PING time (under `deadlineMs`, so
   * a frozen Redis answers as `down` in time), the circuit, hit rate and entries held in this process. Never throws.
   */
  async health(deadlineMs: number): Promise<CacheHealth> {
    const latencyMs = await this.gateway.ping(deadlineMs);
    const redis: RedisState = !this.gateway.client ? 'disabled' : latencyMs === null ? 'down' : 'up';
    const circuit = this.gateway.circuit.state;
    const { hits, misses, staleServed } = this.counters.totals;
    return {
      backend: servingFrom(redis, circuit),
      redis,
      latencyMs,
      circuit,
      hits,
      misses,
      hitRatePercent: hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 1000) / 10,
      l1Entries: this.tiers.localEntries,
      staleServed,
      topology: this.topology.kind,
      ...(this.topology.masterAddress ? { master: this.topology.masterAddress } : {}),
      ...(this.topology.masters
        ? { mastersUp: this.topology.masters.up, mastersKnown: this.topology.masters.known }
        : {}),
    };
  }

  /**
   * Totals, per route prefix and per namespace (named caches and decorated methods), circuit state and L1 occupancy:
   * numbers only, never key names or values.
   */
  stats(): CacheStats {
    const { state, timeOpenMs } = this.gateway.circuit;
    const { totals, prefixes, namespaces } = this.counters.snapshot();
    return {
      backend: this.gateway.client ? 'redis' : 'memory',
      circuit: { state, timeOpenMs: Math.round(timeOpenMs) },
      totals,
      prefixes,
      namespaces,
      l1: { entries: this.tiers.localEntries, bytes: this.l1.bytes },
      ...(this.relay.enabled ? { outbox: { ...this.relay.stats } } : {}),
      topology: {
        kind: this.topology.kind,
        ...(this.topology.masterAddress ? { master: this.topology.masterAddress } : {}),
        failovers: this.topology.failovers,
      },
    };
  }

  /**
   * Listens to an event (see {@link RedisCacheEvents}); any number of listeners. A listener that throws is logged
   * and never disturbs the cache.
   *
   * @returns a function that removes this listener.
   * @example
   * ```ts
   * const stop = cache.on('l2-call', ({ durationMs, outcome }) => histogram.observe({ outcome }, durationMs / 1000));
   * ```
   */
  on<E extends keyof RedisCacheEvents>(
    event: E,
    listener: (payload: RedisCacheEvents[E]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Invalidates every entry under a logical prefix such as `'jobs:list:'` or `'jobs:item:42'`, for every instance,
   * before it resolves. A prefix with the shape of a declared @InvalidatesCache prefix costs one generation bump
   * (O(1)); any other falls back to SCAN + UNLINK, which rejects if Redis cannot be scanned.
   *
   * @throws InvalidKeyPatternError for a pattern (`{placeholder}`) or a malformed prefix.
   */
  async invalidate(prefix: string, options: { tenant?: string } = {}): Promise<void> {
    const parsed = parseKeyPattern(prefix);
    if (parsed.placeholders.length > 0)
      throw new InvalidKeyPatternError(
        `invalidate() takes a rendered prefix such as 'jobs:item:42', not a pattern: ${prefix}`,
      );
    const segments = parsed.segments.map((segment) => (segment.kind === 'literal' ? segment.value : ''));
    if (this.registry.isKnownPrefix(segments)) {
      await this.invalidator.invalidate([this.keys.generation(options.tenant, segments)]);
    } else {
      const physicalPrefix = this.keys.entryPrefix(options.tenant, segments);
      await afterCommit([], async () => void (await this.invalidator.deleteByScan(physicalPrefix)));
    }
  }

  /**
   * Counts one event of `key` in a fixed window that every instance shares, for rate limits and quotas (logins per
   * address, model calls per tenant): one atomic script in Redis, the counter expiring with its window. When Redis
   * is not configured, does not answer within the deadline or the circuit is open, the event is counted in this
   * process instead (`scope: 'process'`), so a limit stays in force, per instance, through an outage. Never rejects
   * for Redis's sake.
   *
   * @example
   * ```ts
   * const { count, resetInMs } = await cache.countInWindow(`login:${request.ip}`, '1m');
   * if (count > 20) throw new HttpException(`retry in ${Math.ceil(resetInMs / 1000)} s`, 429);
   * ```
   * @throws CacheConfigurationError for a key that is empty or over 512 characters; InvalidTtlError for the window.
   */
  countInWindow(key: string, window: Ttl, options: { tenant?: string } = {}): Promise<WindowCount> {
    return this.windows.count(key, window, options.tenant);
  }

  /** Makes every entry under the module's prefix unreachable, for every tenant and instance: one generation bump. */
  async clear(): Promise<void> {
    await this.invalidator.invalidate([this.keys.rootGeneration]);
  }
}
