import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { GENERATION_COUNTERS, type GenerationCounters } from '../invalidation/generation-counters.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import { Invalidator } from '../invalidation/invalidator.js';
import { CacheCounters, type StatsSink } from '../observability/cache-counters.js';
import { DeadlineExceeded } from '../resilience/deadline.js';
import { CircuitOpen, RedisGateway } from '../resilience/redis-gateway.js';
import {
  type CacheEntry,
  encodeEntry,
  encodeEntryBytes,
  type GracedResponse,
  type StoredResponse,
} from '../storage/cache-entry.js';
import { ENTRY_STORE, type EntryLocation, type EntryStore, type StoredRead } from '../storage/entry-store.js';
import { L1Tier, ownedBytes } from './l1-tier.js';
import type { BypassReason, Lifetime, LookupStart, MissOrBypass, ReadResult } from './read-result.js';

export type { BypassReason, Lifetime, LookupStart, MissOrBypass, ReadResult } from './read-result.js';

/** Bypasses because Redis could not be read: the handler's answer may fill L1 (capped at `CACHE_L1_TTL`). */
const REDIS_AWAY: ReadonlySet<BypassReason> = new Set(['unavailable', 'timeout', 'circuit-open']);

/**
 * The two tiers as one: L1 in process, then the entry store (Redis, or memory without it) under the deadline,
 * with every failure counted and turned into a bypass. Fills go to both tiers without making the caller wait.
 * Generations are checked on every L2 read, which closes the stale-set race (RELIABILITY.md §3).
 */
@Injectable()
export class TieredCache {
  /** Store reads in progress, by entry key, so that a burst of requests for one key reads it once. */
  private readonly remoteReads = new Map<string, { snapshot: number; result: Promise<ReadResult> }>();

  constructor(
    @Inject(ENTRY_STORE) private readonly store: EntryStore,
    @Inject(GENERATION_COUNTERS) private readonly generations: GenerationCounters,
    private readonly gateway: RedisGateway,
    private readonly invalidator: Invalidator,
    private readonly bus: InvalidationBus,
    private readonly l1: L1Tier,
    private readonly counters: CacheCounters,
  ) {}

  /** The entry from L1 if it can be served without asking Redis (see {@link L1Tier.get}). */
  readLocal(location: EntryLocation, now = performance.now()): StoredResponse | undefined {
    const entry = this.l1.get(location, now);
    if (entry) location.stats.record('l1Hit');
    return entry;
  }

  /**
   * L1, then the store; concurrent reads of one key share one store read, as long as it started after the last
   * invalidation of the key's prefixes that this process knows of (a read begun before a finished write could
   * return what the write replaced).
   */
  readThrough(location: EntryLocation): ReadResult | Promise<ReadResult> {
    const local = this.readLocal(location);
    if (local) return { kind: 'hit', tier: 'l1', entry: local };
    const shared = this.remoteReads.get(location.entryKey);
    if (shared && this.bus.ledger.isCurrent(location.generationKeys, shared.snapshot)) {
      return shared.result.then((result) => {
        this.countSharedRead(location, result);
        return result;
      });
    }
    const read = { snapshot: this.bus.ledger.snapshot(), result: this.readRemote(location) };
    this.remoteReads.set(location.entryKey, read);
    void read.result.finally(() => {
      if (this.remoteReads.get(location.entryKey) === read) this.remoteReads.delete(location.entryKey);
    });
    return read.result;
  }

  /** A graced entry of L1 (past its TTL, within its grace, never invalidated), to stand in for a failed answer. */
  readLocalGraced(location: EntryLocation): GracedResponse | undefined {
    return this.l1.getGraced(location);
  }

  /** Reads the entry and the generations covering it from the store under the deadline; a hit also fills L1. */
  async readRemote(location: EntryLocation): Promise<ReadResult> {
    const start: LookupStart = { snapshot: this.bus.ledger.snapshot(), verifiedAt: performance.now() };
    if (this.invalidator.isPending(location)) return this.bypass(location, start, 'invalidation-pending');
    let read: StoredRead;
    try {
      read = await this.gateway.read(() => this.store.read(location));
    } catch (error) {
      return this.bypass(location, start, reasonOf(error, 'unavailable'), error);
    }
    if (read.generations.some((value) => value === null)) {
      // First use, expired, evicted, or removed after a refused bump: re-create from the clock, then trust only
      // entries filled under the new values (none yet). Only for the entry's TTL: a fill extends them.
      let current: string[];
      try {
        const ttlMs = Math.min(location.lookupTtlMs ?? Infinity, this.invalidator.generationTtlMs);
        current = await this.gateway.read(() => this.generations.ensure(location.generationKeys, ttlMs));
      } catch (error) {
        return this.bypass(location, start, reasonOf(error, 'generation-missing'), error);
      }
      location.stats.record('miss');
      return { kind: 'miss', generations: current, ...start };
    }
    const current = read.generations as string[];
    const { entry } = read;
    if (entry && this.isFresh(entry.generations, current)) {
      this.keepInL1(location, entry, current, start);
      if (Date.now() < entry.freshUntil) {
        location.stats.record('l2Hit');
        return { kind: 'hit', tier: 'l2', entry };
      }
      // Past its TTL, within its grace, never invalidated: a miss, with a stand-in should the fresh answer fail.
      location.stats.record('miss');
      return { kind: 'miss', generations: current, graced: entry, ...start };
    }
    if (entry) location.stats.record('staleRefused');
    location.stats.record('miss');
    return { kind: 'miss', generations: current, ...start };
  }

  /**
   * One uncounted look at the store for a miss that waits on another instance's fill: the covering generations,
   * and the entry if it is fresh under them (then also put in L1). Rejects on Redis trouble.
   */
  async peek(location: EntryLocation): Promise<{ current: (string | null)[]; entry?: CacheEntry }> {
    const start: LookupStart = { snapshot: this.bus.ledger.snapshot(), verifiedAt: performance.now() };
    const { generations, entry } = await this.gateway.read(() => this.store.read(location));
    const current = generations as string[];
    const usable =
      entry !== undefined &&
      !generations.includes(null) &&
      this.isFresh(entry.generations, current) &&
      Date.now() < entry.freshUntil;
    if (!usable) return { current: generations };
    this.keepInL1(location, entry, current, start);
    return { current, entry };
  }

  /** Whether an entry read from the store may be served: filled under exactly the current generations. */
  accepts(entryGenerations: string[], current: string[]): boolean {
    return this.isFresh(entryGenerations, current);
  }

  /** Puts an entry read from the store (verified against `current` at `start`) in L1 for its remaining life. */
  private keepInL1(location: EntryLocation, entry: CacheEntry, current: string[], start: LookupStart): void {
    if (!this.l1.enabled) return;
    const { etag, contentType, body, encoding, freshUntil, storedAt } = entry;
    const l1Entry = {
      etag,
      contentType,
      body: ownedBytes(body),
      encoding,
      generations: current,
      freshUntil,
      storedAt,
    };
    this.l1.set(location, { ...l1Entry, ...start }, entry.graceUntil - Date.now());
  }

  /** Counts a request that shared another request's read, as if it had read itself. */
  private countSharedRead(location: EntryLocation, result: ReadResult): void {
    location.stats.record(result.kind === 'hit' ? 'l2Hit' : result.kind === 'miss' ? 'miss' : 'bypass');
  }

  /** A request that waits for a concurrent miss of its key instead of running the handler itself. */
  countSingleFlightJoin(location: EntryLocation): void {
    location.stats.record('singleFlightJoin');
  }

  /** A request served uncached before any read (its query names a parameter the key does not). */
  bypassUnread(stats: StatsSink, reason: BypassReason): ReadResult {
    stats.record('bypass');
    if (reason === 'unkeyed-query') stats.record('unkeyedQuery');
    return { kind: 'bypass', reason, snapshot: this.bus.ledger.snapshot(), verifiedAt: performance.now() };
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
   * Stores a response the handler produced after `lookup` (or a value `compute` produced: a Buffer body), without
   * making the caller wait; failures are counted and logged, never thrown. After a miss it goes to the store (under
   * the generations read before the handler ran) and to L1; after a bypass because Redis could not be read, to L1
   * only, for at most `CACHE_L1_TTL`. Resolves once the store write settled (a fleet lease is released then).
   */
  fill(
    location: EntryLocation,
    lookup: MissOrBypass,
    response: StoredResponse,
    lifetime: Lifetime,
  ): Promise<void> {
    const verified = lookup.kind === 'miss';
    if (!verified && !REDIS_AWAY.has(lookup.reason)) return Promise.resolve();
    const storedAt = Date.now();
    const freshUntil = storedAt + lifetime.ttlMs;
    const keptMs = lifetime.ttlMs + lifetime.graceMs;
    if (this.l1.enabled) {
      const { etag, contentType, body, encoding } = response;
      const generations = verified ? lookup.generations : null;
      const { snapshot, verifiedAt } = lookup;
      const entry = {
        etag,
        contentType,
        body: ownedBytes(body),
        encoding,
        generations,
        snapshot,
        verifiedAt,
        freshUntil,
        storedAt,
      };
      this.l1.set(location, entry, keptMs);
    }
    // Not while the circuit is open or probing: the probe belongs to a read, which reports its outcome.
    if (!verified || this.gateway.circuit.state !== 'closed') return Promise.resolve();
    this.counters.countTotal('fills');
    const entry = {
      ...response,
      generations: lookup.generations,
      freshUntil,
      graceUntil: storedAt + keptMs,
      storedAt,
    };
    const { body } = entry;
    const write =
      typeof body === 'string'
        ? () => this.store.write(location.entryKey, encodeEntry({ ...entry, body }), keptMs)
        : () =>
            this.store.writeFrames([
              { entryKey: location.entryKey, frame: encodeEntryBytes({ ...entry, body }), ttlMs: keptMs },
            ]);
    const generationTtlMs = this.invalidator.generationTtlMs;
    return this.gateway.background(
      'fill',
      () => Promise.all([write(), this.generations.touch(location.generationKeys, generationTtlMs)]),
      () => this.counters.countTotal('l2Errors'),
    );
  }

  /** Entries held in this process: L1's, or the memory store's when Redis is not configured. */
  get localEntries(): number {
    return this.store.localEntries ?? this.l1.entries;
  }

  private bypass(
    location: EntryLocation,
    start: LookupStart,
    reason: BypassReason,
    error?: unknown,
  ): ReadResult {
    location.stats.record('bypass');
    if (reason === 'circuit-open') {
      location.stats.record('circuitSkip');
    } else if (reason === 'timeout') {
      location.stats.record('timeout');
      this.gateway.warn('timeout', `cache read exceeded ${this.gateway.deadlineMs} ms; serving uncached`);
    } else if (error !== undefined) {
      location.stats.record('error');
      this.gateway.report('read', error);
    }
    return { kind: 'bypass', reason, ...start };
  }
}

function reasonOf(error: unknown, otherwise: BypassReason): BypassReason {
  if (error instanceof CircuitOpen) return 'circuit-open';
  return error instanceof DeadlineExceeded ? 'timeout' : otherwise;
}
