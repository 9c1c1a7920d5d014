import type { StatsSink } from '../observability/cache-counters.js';
import type { CacheEntry } from './cache-entry.js';

/** Where one cached value lives: its entry key and the generation counters of every prefix covering it. */
export interface EntryLocation {
  entryKey: string;
  generationKeys: string[];
  /**
   * How long a counter that a lookup had to create may live before any fill extends it: the entry's TTL, so that
   * looking up keys nobody fills (ids that do not exist) leaves nothing in Redis beyond one TTL. Unset: as long as
   * a filled one.
   */
  lookupTtlMs?: number;
  /** Where this entry's hits, misses and errors are counted: its route prefix, named cache or decorated method. */
  stats: StatsSink;
}

/** What one read of the store found: the covering generations (null where a counter is missing) and the entry. */
export interface StoredRead {
  generations: (string | null)[];
  entry: CacheEntry | undefined;
}

/** Many entries read at once: the union of their counters, and the entries in the order asked. */
export interface StoredReads {
  generations: Map<string, string | null>;
  entries: (CacheEntry | undefined)[];
}

/** A value to store under whatever its counters hold in the store at that moment (set, setMany). */
export interface CurrentWrite {
  entryKey: string;
  generationKeys: string[];
  ttlMs: number;
  /** The frame after its generations line (see cache-entry.ts `frameTail`). */
  tail: Buffer;
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
  /** Many entries and every counter covering them, in one round trip. */
  readMany(generationKeys: string[], entryKeys: string[]): Promise<StoredReads>;
  /** Stores binary frames (fills of named values, written under the generations read before computing). */
  writeFrames(frames: { entryKey: string; frame: Buffer; ttlMs: number }[]): Promise<void>;
  /**
   * Stores values under the generations their counters hold right now, creating missing ones from the clock and
   * refreshing their TTL, in one round trip and atomically (a script on Redis). Returns each entry's generations.
   */
  writeCurrent(writes: CurrentWrite[], generationTtlMs: number, seed: string): Promise<string[][]>;
  /** Frees entries already made unreachable (by a counter bump): memory back before their TTL. */
  remove(entryKeys: string[]): Promise<void>;
  /** Deletes every entry whose physical key starts with `physicalPrefix` (SCAN + UNLINK on Redis): rare, slow. */
  deleteByPrefix(physicalPrefix: string): Promise<number>;
  /** Entries held in process memory by this store itself (the memory store); undefined for Redis. */
  readonly localEntries: number | undefined;
}

/** DI token of the configured {@link EntryStore}. */
export const ENTRY_STORE = Symbol('redis_cache:entry_store');
