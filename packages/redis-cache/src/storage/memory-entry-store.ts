import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import type { GenerationCounters } from '../invalidation/generation-counters.js';
import { decodeEntry } from './cache-entry.js';
import type { EntryLocation, EntryStore, StoredRead } from './entry-store.js';

/** A bounded in-process store with the Map-like surface Keyv expects (Keyv passes the TTL as a number). */
class LruStore {
  readonly lru: LRUCache<string, string | object>;

  constructor(maxEntries: number, maxBytes: number) {
    this.lru = new LRUCache({
      max: Math.max(1, maxEntries),
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (value, key) =>
        2 * (key.length + (typeof value === 'string' ? value.length : 512)) + 256,
    });
  }

  get(key: string) {
    return this.lru.get(key);
  }

  set(key: string, value: string | object, ttl?: number) {
    this.lru.set(key, value, { ttl });
    return this;
  }

  delete(key: string) {
    return this.lru.delete(key);
  }

  clear() {
    this.lru.clear();
  }
}

/**
 * Entries in process memory, for a cache without Redis: the same cache-manager and Keyv path as Redis, over an LRU
 * bounded by entries and bytes (the L1 bounds), with the generation counters in memory too.
 */
export class MemoryEntryStore implements EntryStore {
  private readonly store: LruStore;
  private readonly entries: Cache;

  constructor(
    private readonly generations: GenerationCounters,
    bounds: { maxEntries: number; maxBytes: number },
  ) {
    this.store = new LruStore(bounds.maxEntries, bounds.maxBytes);
    this.entries = createCache({ stores: [new Keyv({ store: this.store, useKeyPrefix: false })] });
  }

  get localEntries(): number {
    return this.store.lru.size;
  }

  async read(location: EntryLocation): Promise<StoredRead> {
    const [generations, raw] = await Promise.all([
      this.generations.read(location.generationKeys),
      this.entries.get<string>(location.entryKey),
    ]);
    return { generations, entry: decodeEntry(raw) };
  }

  async write(entryKey: string, framed: string, ttlMs: number): Promise<void> {
    await this.entries.set(entryKey, framed, ttlMs);
  }

  async deleteByPrefix(physicalPrefix: string): Promise<number> {
    let removed = 0;
    for (const key of [...this.store.lru.keys()])
      if (key.startsWith(physicalPrefix) && this.store.delete(key)) removed++;
    return removed;
  }
}
