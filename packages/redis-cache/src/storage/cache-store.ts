import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import { LRUCache } from 'lru-cache';
import { REDIS_CACHE_CLIENT } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { RESP_TYPES } from '@redis/client';
import { performance } from 'node:perf_hooks';
import {
  decodeEntry,
  decodeEntryBytes,
  encodeEntry,
  type CacheEntry,
  type StoredResponse,
} from './cache-entry.js';
import { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { DeadlineExceeded, withDeadline } from '../resilience/deadline.js';
import { FailureLog } from '../resilience/failure-log.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import { DEFAULT_L1_MAX_BYTES, DEFAULT_L1_MAX_ENTRIES, L1Tier, ownedBytes } from '../tiers/l1-tier.js';
import {
  MemoryGenerationCounters,
  RedisGenerationCounters,
  type GenerationCounters,
} from '../invalidation/generation-counters.js';
import type { RedisClient } from './redis-client.factory.js';

/** Where one cached response lives: its entry key and the generation counters of every prefix covering it. */
export interface EntryLocation {
  entryKey: string;
  generationKeys: string[];
  /** The route's key prefix for statistics (`jobs:list`): bounded by the number of @Cached routes, never a key. */
  label: string;
}

/** When a lookup started: what a fill after it is checked against (the invalidation ledger, L1's clock). */
export interface LookupStart {
  snapshot: number;
  verifiedAt: number;
}

export type BypassReason =
  'unavailable' | 'timeout' | 'circuit-open' | 'generation-missing' | 'invalidation-pending';

/** Bypasses because Redis could not be read: the database's answer may fill L1 (capped at `CACHE_L1_TTL`). */
const REDIS_AWAY: ReadonlySet<BypassReason> = new Set(['unavailable', 'timeout', 'circuit-open']);

class CircuitOpen extends Error {}

export type ReadResult =
  | { kind: 'hit'; tier: 'l1' | 'l2'; entry: StoredResponse }
  /** Not usable from the cache; `generations` are the values to fill under, read before the handler runs. */
  | ({ kind: 'miss'; generations: string[] } & LookupStart)
  /** Redis cannot be trusted or reached for this key right now: serve without reading or filling it. */
  | ({ kind: 'bypass'; reason: BypassReason } & LookupStart);

/** The counters kept per route prefix as well as in total. */
export const PER_PREFIX_COUNTERS = [
  'hits',
  'l1Hits',
  'l2Hits',
  'misses',
  'bypasses',
  'staleEntriesRefused',
  'singleFlightJoins',
  'timeouts',
  'l2Errors',
  'circuitSkips',
] as const;
export type PrefixCounters = Record<(typeof PER_PREFIX_COUNTERS)[number], number>;

/** How one Redis call on a request's path ended, for a latency histogram. */
export type L2Outcome = 'ok' | 'error' | 'timeout' | 'skipped';

export interface CacheCounters {
  /** All hits: `l1Hits + l2Hits`. */
  hits: number;
  l1Hits: number;
  l2Hits: number;
  misses: number;
  bypasses: number;
  staleEntriesRefused: number;
  l2Errors: number;
  timeouts: number;
  fills: number;
  invalidations: number;
  /** Requests that waited for a concurrent miss of the same key instead of running the handler themselves. */
  singleFlightJoins: number;
  /** Reads that skipped Redis because the circuit was open. */
  circuitSkips: number;
}

interface BufferReplies {
  mGet(keys: string[]): Promise<(Buffer | null)[]>;
}

/** A bounded in-process store with the Map-like surface Keyv expects (Keyv passes the TTL as a number). */
class LruStore {
  private readonly lru: LRUCache<string, string | object>;

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

  keys(): string[] {
    return [...this.lru.keys()];
  }

  get size(): number {
    return this.lru.size;
  }
}

/** Generation counters outlive any entry: at least a day, refreshed on every fill and bump. */
export const MIN_GENERATION_TTL_MS = 86_400_000;

/**
 * The only code that touches the cache's storage. Entries go through cache-manager and Keyv (@keyv/redis on the
 * module's node-redis client, or an in-process LRU when Redis is not configured); generation counters use the raw
 * client. Every read on a request's path runs under one deadline; every failure is counted, logged once per window,
 * and turned into a bypass, so the cache never fails or stalls a request.
 */
@Injectable()
export class CacheStore implements OnModuleDestroy {
  readonly counters: CacheCounters = {
    hits: 0,
    l1Hits: 0,
    l2Hits: 0,
    misses: 0,
    bypasses: 0,
    staleEntriesRefused: 0,
    l2Errors: 0,
    timeouts: 0,
    fills: 0,
    invalidations: 0,
    singleFlightJoins: 0,
    circuitSkips: 0,
  };
  readonly backend: 'redis' | 'memory';
  /** Opens after repeated Redis failures or deadline misses; reads and fills then skip Redis until a probe passes. */
  readonly circuit = new CircuitBreaker();
  /** Per route prefix (`jobs:list`), the request-level counters; created on first use. */
  readonly prefixCounters = new Map<string, PrefixCounters>();
  /** Told the duration of every Redis call made on a request's path or for an invalidation (metrics hook). */
  onL2Call: ((durationMs: number, outcome: L2Outcome) => void) | undefined;
  private readonly logger = new Logger('RedisCache');
  private readonly failures = new FailureLog(this.logger);
  private readonly entries: Cache;
  private readonly keyv: Keyv;
  private readonly generations: GenerationCounters;
  /** The same connection, answering bulk strings as Buffers (the hit path's view). */
  private readonly bytes: BufferReplies | undefined;
  private readonly deadlineMs: number;
  /** Prefixes whose bump failed everywhere: keys under them bypass the cache here until a retry succeeds. */
  private readonly pendingBumps = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  generationTtlMs = MIN_GENERATION_TTL_MS;

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
    @Inject(REDIS_CACHE_CLIENT) private readonly client: RedisClient | undefined,
    private readonly bus: InvalidationBus,
    private readonly l1: L1Tier,
  ) {
    this.deadlineMs = options.opTimeoutMs ?? 150;
    if (client) {
      this.backend = 'redis';
      const store = new KeyvRedis(client, { throwOnErrors: false, useUnlink: true });
      // Entries are stored as framed strings (cache-entry.ts), not Keyv's JSON envelope: a hit must not parse the
      // body. Redis enforces the TTL (KeyvRedis writes PX), so the envelope's `expires` is not needed.
      this.keyv = new Keyv({
        store,
        useKeyPrefix: false,
        namespace: undefined,
        serialize: ({ value }) => value as string,
        deserialize: (raw) => ({ value: raw as never }),
      });
      // A reconnected client is worth a probe now rather than after the rest of the cool-down.
      client.on('ready', () => this.circuit.probeNow());
      this.generations = new RedisGenerationCounters(client, (keys) => [
        bus.channel,
        bus.generationsMessage(keys),
      ]);
      this.bytes = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as BufferReplies;
    } else {
      this.backend = 'memory';
      const store = new LruStore(
        options.l1?.maxEntries ?? DEFAULT_L1_MAX_ENTRIES,
        options.l1?.maxBytes ?? DEFAULT_L1_MAX_BYTES,
      );
      this.keyv = new Keyv({ store, useKeyPrefix: false });
      this.generations = new MemoryGenerationCounters();
    }
    this.keyv.on('error', (error: unknown) => this.fail('entry store', error));
    this.entries = createCache({ stores: [this.keyv] });
  }

  /**
   * Reads the entry and the generations covering it from Redis under the deadline (L1 is {@link readLocal}). On
   * Redis that is one MGET, read as bytes: entries are written through cache-manager and Keyv, which store the
   * framed string at exactly this key, and a hit slices the body out of Redis's reply without decoding it. A hit
   * also fills L1.
   */
  async readRemote(location: EntryLocation): Promise<ReadResult> {
    const start: LookupStart = { snapshot: this.bus.ledger.snapshot(), verifiedAt: performance.now() };
    if (location.generationKeys.some((key) => this.pendingBumps.has(key))) {
      return this.bypass(location, start, 'invalidation-pending');
    }
    let entry: CacheEntry | undefined;
    let generations: (string | null)[];
    try {
      if (this.bytes) {
        const bytes = this.bytes;
        const replies = await this.withDeadline(() =>
          bytes.mGet([...location.generationKeys, location.entryKey]),
        );
        generations = replies.slice(0, -1).map((reply) => reply?.toString('latin1') ?? null);
        entry = decodeEntryBytes(replies.at(-1));
      } else {
        let raw: unknown;
        [generations, raw] = await this.withDeadline(() =>
          Promise.all([
            this.generations.read(location.generationKeys),
            this.entries.get<string>(location.entryKey),
          ]),
        );
        entry = decodeEntry(raw);
      }
    } catch (error) {
      return this.bypass(location, start, this.reasonOf(error, 'unavailable'), error);
    }
    let current: string[];
    if (generations.some((value) => value === null)) {
      // First use, expired, evicted, or removed after a refused bump: re-create from the clock, then trust only
      // entries filled under the new values (none yet).
      try {
        current = await this.withDeadline(() =>
          this.generations.ensure(location.generationKeys, this.generationTtlMs),
        );
      } catch (error) {
        return this.bypass(location, start, this.reasonOf(error, 'generation-missing'), error);
      }
      this.count(location.label, 'misses');
      return { kind: 'miss', generations: current, ...start };
    }
    current = generations as string[];
    if (entry && this.isFresh(entry.generations, current)) {
      this.count(location.label, 'hits', 'l2Hits');
      if (this.l1.enabled) {
        const { etag, contentType, body } = entry;
        this.l1.set(
          location,
          { etag, contentType, body: ownedBytes(body), generations: current, ...start },
          entry.expiresAt - Date.now(),
        );
      }
      return { kind: 'hit', tier: 'l2', entry };
    }
    if (entry) this.count(location.label, 'staleEntriesRefused');
    this.count(location.label, 'misses');
    return { kind: 'miss', generations: current, ...start };
  }

  /** Entries held in this process: L1's, or the memory store's when Redis is not configured. */
  get localEntries(): number {
    return this.client ? this.l1.entries : (this.keyv.store as LruStore).size;
  }

  /** Round-trip time of a PING under `deadlineMs`, or null when Redis is absent, disconnected or too slow. */
  async ping(deadlineMs: number): Promise<number | null> {
    if (!this.client?.isReady) return null;
    const started = performance.now();
    try {
      await withDeadline(this.client.ping(), deadlineMs);
      return Math.round((performance.now() - started) * 100) / 100;
    } catch {
      return null;
    }
  }

  /** `up` while the client is connected, `down` while it is not, `disabled` without Redis. */
  get redisStatus(): 'up' | 'down' | 'disabled' {
    if (!this.client) return 'disabled';
    return this.client.isReady ? 'up' : 'down';
  }

  /** The entry from L1 if it can be served without asking Redis (see {@link L1Tier.get}). */
  readLocal(location: EntryLocation, now = performance.now()): StoredResponse | undefined {
    const entry = this.l1.get(location, now);
    if (entry) this.count(location.label, 'hits', 'l1Hits');
    return entry;
  }

  /** Counts a request that shared another request's Redis read, as if it had read itself. */
  countSharedRead(location: EntryLocation, result: ReadResult): void {
    if (result.kind === 'hit') this.count(location.label, 'hits', 'l2Hits');
    else this.count(location.label, result.kind === 'miss' ? 'misses' : 'bypasses');
  }

  /** Counts a request-level event in total and for its route prefix; a Map lookup and two increments. */
  count(label: string, ...fields: (typeof PER_PREFIX_COUNTERS)[number][]): void {
    let perPrefix = this.prefixCounters.get(label);
    if (!perPrefix) {
      perPrefix = Object.fromEntries(PER_PREFIX_COUNTERS.map((field) => [field, 0])) as PrefixCounters;
      this.prefixCounters.set(label, perPrefix);
    }
    for (const field of fields) {
      this.counters[field]++;
      perPrefix[field]++;
    }
  }

  /**
   * Whether an entry was filled under the current generations. This check closes the stale-set race: a fill that
   * started before an invalidation carries the old generation and is refused. Protected so that a test can turn
   * it off and prove the race is real (the negative control).
   */
  protected isFresh(entryGenerations: string[], current: string[]): boolean {
    return entryGenerations.length === current.length && entryGenerations.every((g, i) => g === current[i]);
  }

  /**
   * Stores a response the handler produced after `lookup`, without making the caller wait; failures are counted and
   * logged, never thrown. After a miss it goes to Redis (under the generations read before the handler ran) and to
   * L1; after a bypass because Redis could not be read, to L1 only, for at most `CACHE_L1_TTL`.
   */
  fill(
    location: EntryLocation,
    lookup: Exclude<ReadResult, { kind: 'hit' }>,
    response: StoredResponse & { body: string },
    ttlMs: number,
  ): void {
    const verified = lookup.kind === 'miss';
    if (!verified && !REDIS_AWAY.has(lookup.reason)) return;
    if (this.l1.enabled) {
      const { etag, contentType, body, snapshot, verifiedAt } = { ...response, ...lookup };
      const generations = verified ? lookup.generations : null;
      this.l1.set(
        location,
        { etag, contentType, body: ownedBytes(body), generations, snapshot, verifiedAt },
        ttlMs,
      );
    }
    // Not while the circuit is open or probing: the probe belongs to a read, which reports its outcome.
    if (!verified || this.circuit.state !== 'closed') return;
    this.counters.fills++;
    const entry = { ...response, generations: lookup.generations, expiresAt: Date.now() + ttlMs };
    void Promise.all([
      this.entries.set(location.entryKey, encodeEntry(entry), ttlMs),
      this.generations.touch(location.generationKeys, this.generationTtlMs),
    ]).catch((error) => this.fail('fill', error));
  }

  /**
   * Makes every entry under the given generation counters unreachable: O(1) per prefix, awaited under the deadline.
   * When the bump is refused, the counters are removed (readers then bypass until they are re-created); when
   * neither works, this instance bypasses those prefixes and retries until Redis takes the bump.
   */
  async invalidate(generationKeys: string[]): Promise<void> {
    if (generationKeys.length === 0) return;
    this.counters.invalidations++;
    try {
      await this.bumpOrRemove(generationKeys);
    } finally {
      // After Redis, not before: a read between the two would otherwise refill L1 from the old generation.
      this.bus.ledger.bump(generationKeys);
    }
  }

  /** Always attempted, whatever the circuit says (a write must not be skipped), and reported to it. */
  private async bumpOrRemove(generationKeys: string[]): Promise<void> {
    // One budget for the bump and its fallback: a write waits at most the deadline for Redis, as a read does.
    const deadline = performance.now() + this.deadlineMs;
    try {
      await withDeadline(this.generations.bump(generationKeys, this.generationTtlMs), this.deadlineMs);
      this.circuit.success();
      return;
    } catch (error) {
      this.circuit.failure();
      this.fail('invalidation', error);
    }
    const remainingMs = deadline - performance.now();
    try {
      if (remainingMs < 1) throw new DeadlineExceeded(this.deadlineMs);
      await withDeadline(this.generations.remove(generationKeys), remainingMs);
      this.circuit.success();
      return;
    } catch (error) {
      this.fail('invalidation fallback', error);
    }
    for (const key of generationKeys) this.pendingBumps.add(key);
    this.scheduleRetry();
  }

  /** Deletes entries whose physical key starts with `keyPrefix` by SCAN + UNLINK: only for prefixes unknown at startup. */
  async deleteByScan(keyPrefix: string): Promise<number> {
    const escaped = keyPrefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    if (!this.client) {
      let removed = 0;
      const store = this.keyv.store as LruStore;
      for (const key of store.keys()) if (key.startsWith(keyPrefix) && store.delete(key)) removed++;
      return removed;
    }
    let removed = 0;
    for await (const keys of this.client.scanIterator({ MATCH: `${escaped}*`, COUNT: 1_000 })) {
      if (keys.length > 0) removed += await this.client.unlink(keys);
    }
    this.l1.deleteByPrefix(keyPrefix);
    await this.client.publish(this.bus.channel, this.bus.entriesMessage(keyPrefix));
    return removed;
  }

  onModuleDestroy(): void {
    clearTimeout(this.retryTimer);
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const keys = [...this.pendingBumps];
      void this.generations
        .bump(keys, this.generationTtlMs)
        .then(() => {
          this.circuit.success();
          for (const key of keys) this.pendingBumps.delete(key);
          this.logger.log(`deferred invalidation of ${keys.length} prefix(es) applied`);
        })
        .catch((error: unknown) => {
          this.fail('deferred invalidation', error);
          this.scheduleRetry();
        });
    }, 500);
    this.retryTimer.unref();
  }

  private reasonOf(error: unknown, otherwise: BypassReason): BypassReason {
    if (error instanceof CircuitOpen) return 'circuit-open';
    return error instanceof DeadlineExceeded ? 'timeout' : otherwise;
  }

  private bypass(
    location: EntryLocation,
    start: LookupStart,
    reason: BypassReason,
    error?: unknown,
  ): ReadResult {
    this.count(location.label, 'bypasses');
    if (reason === 'circuit-open') {
      this.count(location.label, 'circuitSkips');
    } else if (reason === 'timeout') {
      this.count(location.label, 'timeouts');
      this.failures.report('timeout', `cache read exceeded ${this.deadlineMs} ms; serving uncached`);
    } else if (error !== undefined) {
      this.count(location.label, 'l2Errors');
      this.report('read', error);
    }
    return { kind: 'bypass', reason, ...start };
  }

  /** A failure off a request's read path (fills, invalidations): counted in total only. */
  private fail(operation: string, error: unknown): void {
    this.counters.l2Errors++;
    this.report(operation, error);
  }

  private report(operation: string, error: unknown): void {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.failures.report(operation, `cache ${operation} failed (${detail}); serving uncached`);
  }

  /**
   * Runs a read on Redis under the deadline, unless the circuit is open (then it costs nothing), and reports the
   * outcome to the circuit. Takes a function, so that a skipped read never even builds its command.
   */
  private async withDeadline<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.circuit.allow()) {
      this.onL2Call?.(0, 'skipped');
      throw new CircuitOpen();
    }
    const started = performance.now();
    try {
      const result = await withDeadline(operation(), this.deadlineMs);
      this.circuit.success();
      this.onL2Call?.(performance.now() - started, 'ok');
      return result;
    } catch (error) {
      this.circuit.failure();
      this.onL2Call?.(performance.now() - started, error instanceof DeadlineExceeded ? 'timeout' : 'error');
      throw error;
    }
  }
}
