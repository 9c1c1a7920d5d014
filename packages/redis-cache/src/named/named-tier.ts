import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { generationSeed } from '../invalidation/generation-counters.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import { Invalidator } from '../invalidation/invalidator.js';
import { DeadlineExceeded } from '../resilience/deadline.js';
import { CircuitOpen, RedisGateway } from '../resilience/redis-gateway.js';
import { frameTail, type StoredResponse } from '../storage/cache-entry.js';
import {
  ENTRY_STORE,
  type EntryLocation,
  type EntryStore,
  type StoredReads,
} from '../storage/entry-store.js';
import { L1Tier, ownedBytes } from '../tiers/l1-tier.js';
import { TieredCache, type Lifetime } from '../tiers/tiered-cache.js';
import type { PackedValue } from './value-codec.js';

/**
 * The batched operations of named caches, on top of the same tiers as everything else: many reads in one round
 * trip (with the generation check of every read), and writes stored under the counters' current generations.
 */
@Injectable()
export class NamedTier {
  constructor(
    @Inject(ENTRY_STORE) private readonly store: EntryStore,
    private readonly tiers: TieredCache,
    private readonly gateway: RedisGateway,
    private readonly invalidator: Invalidator,
    private readonly bus: InvalidationBus,
    private readonly l1: L1Tier,
  ) {}

  /**
   * Reads many entries: L1 first, then one store read of the rest and of every counter covering them. A missing
   * counter is a miss (the next write creates it); a hit fills L1.
   */
  async readMany(locations: EntryLocation[]): Promise<(StoredResponse | undefined)[]> {
    const found: (StoredResponse | undefined)[] = locations.map((location) => this.tiers.readLocal(location));
    const remote = locations.flatMap((location, i) => {
      if (found[i]) return [];
      if (!this.invalidator.isPending(location)) return [i];
      location.stats.record('bypass');
      return [];
    });
    if (remote.length === 0) return found;
    const start = { snapshot: this.bus.ledger.snapshot(), verifiedAt: performance.now() };
    const generationKeys = [...new Set(remote.flatMap((i) => locations[i].generationKeys))];
    let reads: StoredReads;
    try {
      reads = await this.gateway.read(() =>
        this.store.readMany(
          generationKeys,
          remote.map((i) => locations[i].entryKey),
        ),
      );
    } catch (error) {
      for (const i of remote) this.failed(locations[i], error);
      return found;
    }
    remote.forEach((i, n) => {
      const location = locations[i];
      const entry = reads.entries[n];
      const current = location.generationKeys.map((key) => reads.generations.get(key) ?? null);
      if (!entry || current.some((value) => value === null)) return location.stats.record('miss');
      if (!this.tiers.accepts(entry.generations, current as string[])) {
        location.stats.record('staleRefused');
        return location.stats.record('miss');
      }
      const { etag, contentType, body, freshUntil, storedAt } = entry;
      const l1Entry = {
        etag,
        contentType,
        body: ownedBytes(body),
        generations: current as string[],
        freshUntil,
        storedAt,
      };
      this.l1.set(location, { ...l1Entry, ...start }, entry.graceUntil - Date.now());
      // A graced value is no answer for getMany: it serves only as a fail-safe stand-in (wrap).
      if (Date.now() >= freshUntil) return location.stats.record('miss');
      location.stats.record('l2Hit');
      found[i] = entry;
    });
    return found;
  }

  /**
   * Stores packed values under their counters' current generations (one round trip, atomic in Redis), then in L1.
   * Values whose key has an invalidation or delete pending here are not stored. While Redis cannot take the write,
   * the values go to L1 alone, for at most `CACHE_L1_TTL`. Never throws.
   */
  async writeCurrent(
    items: { location: EntryLocation; packed: PackedValue; lifetime: Lifetime }[],
  ): Promise<void> {
    const writable = items.filter(({ location }) => !this.invalidator.isPending(location));
    if (writable.length === 0) return;
    const start = { snapshot: this.bus.ledger.snapshot(), verifiedAt: performance.now() };
    const storedAt = Date.now();
    const writes = writable.map(({ location, packed, lifetime }) => ({
      entryKey: location.entryKey,
      generationKeys: location.generationKeys,
      ttlMs: lifetime.ttlMs + lifetime.graceMs,
      tail: frameTail({
        freshUntil: storedAt + lifetime.ttlMs,
        graceUntil: storedAt + lifetime.ttlMs + lifetime.graceMs,
        storedAt,
        etag: '',
        contentType: packed.tag,
        body: packed.body,
      }),
    }));
    let lines: (string[] | null)[];
    try {
      const generationTtlMs = this.invalidator.generationTtlMs;
      lines = await this.gateway.write(() =>
        this.store.writeCurrent(writes, generationTtlMs, generationSeed()),
      );
    } catch (error) {
      for (const { location } of writable) this.failed(location, error);
      lines = writable.map(() => null);
    }
    writable.forEach(({ location, packed, lifetime }, i) => {
      if (lines[i]) location.stats.record('set');
      const freshUntil = storedAt + lifetime.ttlMs;
      const entry = {
        etag: '',
        contentType: packed.tag,
        body: ownedBytes(packed.body),
        freshUntil,
        storedAt,
      };
      this.l1.set(location, { ...entry, ...start, generations: lines[i] }, lifetime.ttlMs + lifetime.graceMs);
    });
  }

  private failed(location: EntryLocation, error: unknown): void {
    if (error instanceof CircuitOpen) return location.stats.record('bypass');
    location.stats.record(error instanceof DeadlineExceeded ? 'timeout' : 'error');
    this.gateway.report('named cache', error);
  }
}
