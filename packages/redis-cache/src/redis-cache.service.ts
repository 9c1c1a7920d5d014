import { Injectable } from '@nestjs/common';
import { parseKeyPattern } from './keys/cache-key.util.js';
import type { CircuitState } from './resilience/circuit-breaker.js';
import { CacheRegistry } from './decorators/cache-registry.js';
import { CacheStore } from './storage/cache-store.js';
import { KeySpace } from './keys/key-space.js';
import { L1Tier } from './tiers/l1-tier.js';

/** Reads come from Redis only while it answers and the circuit is closed; otherwise from process memory. */
const servingFrom = (redis: 'up' | 'down' | 'disabled', circuit: CircuitState) =>
  redis === 'up' && circuit === 'closed' ? ('redis' as const) : ('memory' as const);

/** Invalidation and statistics for code outside the decorators (jobs, admin endpoints, tests). */
@Injectable()
export class CacheService {
  constructor(
    private readonly registry: CacheRegistry,
    private readonly store: CacheStore,
    private readonly keys: KeySpace,
    private readonly l1: L1Tier,
  ) {}

  get backend(): 'redis' | 'memory' {
    return this.store.backend;
  }

  get counters() {
    return { ...this.store.counters };
  }

  /**
   * Where reads are served from right now: `redis` while Redis is connected and the circuit closed, `memory`
   * (L1, or the memory store when Redis is not configured) otherwise.
   */
  status() {
    const redis = this.store.redisStatus;
    const circuit = this.store.circuit.state;
    return { backend: servingFrom(redis, circuit), redis, circuit } as const;
  }

  /** Totals and per route prefix, circuit state and L1 occupancy: numbers only, never key names or values. */
  stats() {
    const { state, timeOpenMs } = this.store.circuit;
    return {
      backend: this.store.backend,
      circuit: { state, timeOpenMs: Math.round(timeOpenMs) },
      totals: this.counters,
      prefixes: Object.fromEntries(
        [...this.store.prefixCounters].map(([label, counters]) => [label, { ...counters }]),
      ),
      l1: { entries: this.store.localEntries, bytes: this.l1.bytes },
    };
  }

  /**
   * What `/health/cache` reports: where reads are served from, Redis's state and PING time (under `deadlineMs`,
   * so a frozen Redis answers as `down` in time), the circuit, hit rate and entries held in this process.
   */
  async health(deadlineMs: number) {
    const latencyMs = await this.store.ping(deadlineMs);
    const configured = this.store.redisStatus !== 'disabled';
    const redis = !configured ? 'disabled' : latencyMs === null ? 'down' : 'up';
    const circuit = this.store.circuit.state;
    const { hits, misses } = this.store.counters;
    return {
      backend: servingFrom(redis, circuit),
      redis,
      latencyMs,
      circuit,
      hits,
      misses,
      hitRatePercent: hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 1000) / 10,
      l1Entries: this.store.localEntries,
    } as const;
  }

  /**
   * Invalidates every entry under a logical prefix such as `'jobs:list:'` or `'jobs:item:42'`. A prefix with the
   * shape of a declared @InvalidatesCache prefix costs one generation bump; any other falls back to SCAN + UNLINK.
   */
  async invalidate(prefix: string, options: { tenant?: string } = {}): Promise<void> {
    const parsed = parseKeyPattern(prefix);
    if (parsed.placeholders.length > 0)
      throw new Error(`invalidate() takes a rendered prefix, not a pattern: ${prefix}`);
    const segments = parsed.segments.map((segment) => (segment.kind === 'literal' ? segment.value : ''));
    if (this.registry.isKnownPrefix(segments)) {
      await this.store.invalidate([this.keys.generation(options.tenant, segments)]);
    } else {
      await this.store.deleteByScan(this.keys.entryPrefix(options.tenant, segments));
    }
  }

  /** Makes every entry under the module's prefix unreachable, for every tenant: one generation bump. */
  async clear(): Promise<void> {
    await this.store.invalidate([this.keys.rootGeneration]);
  }
}
