import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import type { GenerationCounters } from '../invalidation/generation-counters.js';
import { decodeEntry, decodeEntryBytes, type CacheEntry } from './cache-entry.js';
import type { CurrentWrite, EntryLocation, EntryStore, StoredRead, StoredReads } from './entry-store.js';

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
    const [generations, entry] = await Promise.all([
      this.generations.read(location.generationKeys),
      this.entry(location.entryKey),
    ]);
    return { generations, entry };
  }

  async readMany(generationKeys: string[], entryKeys: string[]): Promise<StoredReads> {
    const values = await this.generations.read(generationKeys);
    return {
      generations: new Map(generationKeys.map((key, i) => [key, values[i]])),
      entries: await Promise.all(entryKeys.map((key) => this.entry(key))),
    };
  }

  async writeFrames(frames: { entryKey: string; frame: Buffer; ttlMs: number }[]): Promise<void> {
    // Straight into the LRU: Keyv's serialiser would not keep a Buffer as bytes.
    for (const { entryKey, frame, ttlMs } of frames) this.store.lru.set(entryKey, frame, { ttl: ttlMs });
  }

  async writeCurrent(writes: CurrentWrite[], generationTtlMs: number): Promise<string[][]> {
    const lines: string[][] = [];
    for (const write of writes) {
      const generations = await this.generations.ensure(write.generationKeys, generationTtlMs);
      await this.generations.touch(write.generationKeys, generationTtlMs);
      const line = Buffer.from(`${generations.join(',')}\n`, 'latin1');
      this.store.lru.set(write.entryKey, Buffer.concat([line, write.tail]), { ttl: write.ttlMs });
      lines.push(generations);
    }
    return lines;
  }

  async remove(entryKeys: string[]): Promise<void> {
    for (const key of entryKeys) this.store.delete(key);
  }

  /** Binary frames were written into the LRU directly, text frames through cache-manager and Keyv. */
  private async entry(key: string): Promise<CacheEntry | undefined> {
    const raw = this.store.lru.get(key);
    if (Buffer.isBuffer(raw)) return decodeEntryBytes(raw);
    return decodeEntry(await this.entries.get<string>(key));
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
