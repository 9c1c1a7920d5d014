import type { CacheEntry } from './cache-entry.js';

/** Where one cached value lives: its entry key and the generation counters of every prefix covering it. */
export interface EntryLocation {
  entryKey: string;
  generationKeys: string[];
  /** The route's key prefix for statistics (`jobs:list`): bounded by the number of @Cached routes, never a key. */
  label: string;
}

/** What one read of the store found: the covering generations (null where a counter is missing) and the entry. */
export interface StoredRead {
  generations: (string | null)[];
  entry: CacheEntry | undefined;
}

/**
 * The shared tier of entries: Redis, or process memory when no Redis is configured. One interface, so that the
 * tiers above never ask which one they have.
 */
export interface EntryStore {
  /** The entry and its covering generation counters, in one round trip. */
  read(location: EntryLocation): Promise<StoredRead>;
  /** Stores a framed entry (see cache-entry.ts) with a TTL; never without one. */
  write(entryKey: string, framed: string, ttlMs: number): Promise<void>;
  /** Deletes every entry whose physical key starts with `physicalPrefix` (SCAN + UNLINK on Redis): rare, slow. */
  deleteByPrefix(physicalPrefix: string): Promise<number>;
  /** Entries held in process memory by this store itself (the memory store); undefined for Redis. */
  readonly localEntries: number | undefined;
}

/** DI token of the configured {@link EntryStore}. */
export const ENTRY_STORE = Symbol('redis_cache:entry_store');
