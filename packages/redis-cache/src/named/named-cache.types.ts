import type { Ttl } from '../keys/ttl.util.js';
import type { FailSafeOptions } from '../redis-cache.types.js';
import type { CacheCodec } from './value-codec.js';

export interface NamespaceOptions<T> extends FailSafeOptions {
  /** How long values live (seconds, or `'30s'`, `'2m'`, `'1h'`); every value has a TTL. */
  ttl: Ttl;
  /** The tenant every call of this handle is scoped to, unless a call names another. */
  tenant?: string;
  /** `'structured'` (the default: types survive), `'json'` (other languages read it), or a codec of your own. */
  codec?: 'structured' | 'json' | CacheCodec<T>;
  /** Values whose encoding is larger than this many bytes are compressed when that saves space (default 1024). */
  compressAbove?: number;
  /**
   * How many leading key segments `invalidate(prefix)` can address (default 3, at most 8): each costs a counter read
   * with the value, in the same round trip. `0` leaves only `delete` and `clear`.
   */
  prefixDepth?: number;
}

export interface NamedCallOptions {
  /** Overrides the handle's tenant for this call. */
  tenant?: string;
}

export interface NamedSetOptions extends NamedCallOptions {
  /** Overrides the namespace's TTL for what this call stores. */
  ttl?: Ttl;
}

/** `wrap`'s options: a TTL, and fail-safe settings that override the namespace's. */
export interface NamedWrapOptions extends NamedSetOptions, FailSafeOptions {}

/**
 * A typed cache of one namespace (from {@link RedisCacheService.namespace}). Keys are strings (or numbers) whose
 * `:`-separated segments `invalidate(prefix)` can address; values go through the namespace's codec. No method
 * throws because of Redis: reads miss, writes are counted and logged, `wrap` computes.
 */
export interface NamedCache<T> {
  readonly name: string;
  /** The value, or undefined: a miss, an expired or invalidated value, or Redis away. */
  get(key: string | number, options?: NamedCallOptions): Promise<T | undefined>;
  /** Stores a value (`undefined` is not stored) under the counters' current generations. */
  set(key: string | number, value: T, options?: NamedSetOptions): Promise<void>;
  /** Removes a value everywhere: no instance returns it once this resolves. */
  delete(key: string | number, options?: NamedCallOptions): Promise<void>;
  /** Values in the order of `keys`, in one round trip. */
  getMany(keys: readonly (string | number)[], options?: NamedCallOptions): Promise<(T | undefined)[]>;
  /** Stores several values in one round trip. */
  setMany(entries: readonly (readonly [string | number, T])[], options?: NamedSetOptions): Promise<void>;
  /**
   * The cached value, or `compute()`'s, stored for next time. Concurrent calls for one key in a process run
   * `compute` once and share its outcome; an error is shared with them and never stored. A value computed while an
   * invalidation or delete of its key happened is not stored (the stale-set race). With a `grace`, a graced value
   * stands in when `compute` throws or runs past `softTimeout` (it then finishes in the background and stores).
   */
  wrap(key: string | number, compute: () => T | Promise<T>, options?: NamedWrapOptions): Promise<T>;
  /** Makes every value whose key starts with the segments of `prefix` unreachable: one counter bump, O(1). */
  invalidate(prefix: string, options?: NamedCallOptions): Promise<void>;
  /** Makes every value of the namespace unreachable (of every tenant, unless a tenant is given or set): O(1). */
  clear(options?: NamedCallOptions): Promise<void>;
}
