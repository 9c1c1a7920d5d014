import { Injectable } from '@nestjs/common';
import { parseKeyPattern } from './cache-key.util.js';
import { CacheRegistry } from './cache-registry.js';
import { CacheStore } from './cache-store.js';
import { KeySpace } from './key-space.js';
import { L1Tier } from './l1-tier.js';

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
    const backend = redis === 'up' && circuit === 'closed' ? 'redis' : 'memory';
    return { backend, redis, circuit } as const;
  }

  /** Totals, circuit state and L1 occupancy: numbers only, never key names or values. */
  stats() {
    const { state, timeOpenMs } = this.store.circuit;
    return {
      backend: this.store.backend,
      circuit: { state, timeOpenMs: Math.round(timeOpenMs) },
      totals: this.counters,
      l1: { entries: this.l1.entries, bytes: this.l1.bytes },
    };
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
