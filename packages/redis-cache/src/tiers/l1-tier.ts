import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { performance } from 'node:perf_hooks';
import { DEFAULT_L1_MAX_BYTES, DEFAULT_L1_MAX_ENTRIES, DEFAULT_L1_TTL_MS } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import type { StoredEncoding } from '../storage/cache-entry.js';

/** One response (or named-cache value) held in process memory. */
export interface L1Entry {
  etag: string;
  /** The response's content type, or a named value's codec tag (see named/value-codec.ts). */
  contentType: string;
  /** The response bytes, in a Buffer of their own (never a slice pinning a larger socket read). */
  body: Buffer;
  /** `gzip` when the bytes are the response compressed at fill. */
  encoding?: StoredEncoding;
  /** Redis generations the entry was verified against; null when it was filled while Redis could not be read. */
  generations: string[] | null;
  /** When the fill (or the L2 read it came from) started, in performance.now() time. */
  verifiedAt: number;
  /** The invalidation ledger's position at that moment: a later bump of its prefixes makes it out of date. */
  snapshot: number;
  /** Until when it is fresh (epoch ms); after that, until its L1 TTL ends, it is graced: a fail-safe stand-in. */
  freshUntil: number;
  /** When it was stored (epoch ms), for the `Age` of a stale answer. */
  storedAt: number;
}

/** Where one cached response lives (the same shape as the entry store's EntryLocation). */
interface L1Location {
  entryKey: string;
  generationKeys: string[];
}

/** Accounted per entry on top of its bytes: the key, headers and object overhead, so tiny bodies are bounded too. */
const ENTRY_OVERHEAD_BYTES = 256;

/** A copy of `bytes` in memory of its own, so that the entry's accounted size is what it really holds. */
export function ownedBytes(bytes: string | Buffer): Buffer {
  if (typeof bytes === 'string') {
    const owned = Buffer.allocUnsafeSlow(Buffer.byteLength(bytes));
    owned.write(bytes);
    return owned;
  }
  const owned = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(owned);
  return owned;
}

/**
 * The in-process tier: an LRU bounded by entries and by bytes, in front of Redis. An entry is served without a
 * round trip while none of its prefixes has been invalidated since it was verified (the ledger) and either it was
 * verified less than `CACHE_L1_TTL` ago or the invalidation bus has covered it since. Otherwise the caller reads
 * Redis, which re-verifies and refills it. Filled from L2 hits (remaining TTL), from misses (the route's TTL), and,
 * while Redis cannot be read, from the database with the TTL capped at `CACHE_L1_TTL`.
 */
@Injectable()
export class L1Tier {
  readonly enabled: boolean;
  /** How long an entry may be served on its own authority: the bound on staleness between instances. */
  readonly ttlMs: number;
  private readonly lru: LRUCache<string, L1Entry> | undefined;

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
    private readonly bus: InvalidationBus,
  ) {
    const maxEntries = options.l1?.maxEntries ?? DEFAULT_L1_MAX_ENTRIES;
    const maxBytes = options.l1?.maxBytes ?? DEFAULT_L1_MAX_BYTES;
    this.ttlMs = options.l1?.ttlMs ?? DEFAULT_L1_TTL_MS;
    // Without Redis the memory store is the only tier; a second copy in front of it would only cost memory.
    this.enabled =
      Boolean(options.url || options.sentinel) && maxEntries > 0 && maxBytes > 0 && this.ttlMs > 0;
    if (!this.enabled) return;
    this.lru = new LRUCache<string, L1Entry>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (entry, key) =>
        entry.body.length +
        2 * (key.length + entry.etag.length + entry.contentType.length) +
        ENTRY_OVERHEAD_BYTES,
    });
    bus.onEntriesDeleted((physicalPrefix) => this.deleteByPrefix(physicalPrefix));
  }

  /** The entry if it is fresh and can be served as it is; undefined sends the caller to Redis. */
  get(location: L1Location, now = performance.now()): L1Entry | undefined {
    const entry = this.trusted(location, now);
    return entry && Date.now() < entry.freshUntil ? entry : undefined;
  }

  /**
   * The entry past its TTL but within its grace, trusted as a fresh one would be (no invalidation since, and the bus
   * vouching for it): what stands in when a fresh answer fails or is late.
   */
  getGraced(location: L1Location, now = performance.now()): L1Entry | undefined {
    return this.trusted(location, now);
  }

  private trusted(location: L1Location, now: number): L1Entry | undefined {
    const entry = this.lru?.get(location.entryKey);
    if (!entry) return undefined;
    if (!this.bus.ledger.isCurrent(location.generationKeys, entry.snapshot)) {
      this.lru!.delete(location.entryKey);
      return undefined;
    }
    if (now - entry.verifiedAt < this.ttlMs) return entry;
    if (entry.generations !== null && this.bus.coversSince(entry.verifiedAt, now)) return entry;
    return undefined;
  }

  /**
   * Stores an entry unless it is already out of date, for `ttlMs` (its remaining lifetime, grace included); capped
   * at `CACHE_L1_TTL` for entries Redis never verified.
   */
  set(location: L1Location, entry: L1Entry, ttlMs: number): void {
    if (!this.lru) return;
    const ttl = Math.floor(entry.generations === null ? Math.min(ttlMs, this.ttlMs) : ttlMs);
    if (ttl <= 0 || !this.bus.ledger.isCurrent(location.generationKeys, entry.snapshot)) return;
    this.lru.set(location.entryKey, entry, { ttl });
  }

  deleteByPrefix(physicalPrefix: string): void {
    if (!this.lru) return;
    for (const key of [...this.lru.keys()]) if (key.startsWith(physicalPrefix)) this.lru.delete(key);
  }

  get entries(): number {
    return this.lru?.size ?? 0;
  }

  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }
}
