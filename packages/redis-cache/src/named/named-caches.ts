import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { CacheTimeoutError, InvalidKeyPatternError } from '../errors.js';
import {
  FailSafe,
  failSafePolicy,
  isClientError,
  NO_FAIL_SAFE,
  type FailSafePolicy,
} from '../resilience/fail-safe.js';
import type { StaleReason } from '../redis-cache.types.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import { Invalidator } from '../invalidation/invalidator.js';
import { joinKey } from '../keys/cache-key.util.js';
import { KeySpace } from '../keys/key-space.js';
import { DEFAULT_MAX_ENTRY_BYTES } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import type { CacheEntry } from '../storage/cache-entry.js';
import { ENTRY_STORE, type EntryLocation, type EntryStore } from '../storage/entry-store.js';
import { RedisGateway } from '../resilience/redis-gateway.js';
import { SingleFlight } from '../tiers/single-flight.js';
import { TieredCache, type MissOrBypass } from '../tiers/tiered-cache.js';
import { NamedCacheHandle } from './named-cache.js';
import type { NamedCache, NamespaceOptions } from './named-cache.types.js';
import { NamedTier } from './named-tier.js';
import { keySegments, NamedLocations, type NamespaceConfig } from './named-locations.js';
import { packValue, unpackValue, type PackedValue } from './value-codec.js';

/** What a finished `compute` gives the callers who joined it: the value, and its bytes for a copy of their own. */
interface ValueOutcome {
  value: unknown;
  packed: PackedValue | undefined;
}

/**
 * Named caches and decorated provider methods (ARCHITECTURE.md §9.2, §9.3): values in the same two tiers as
 * responses, with the same generation checks, bus coherence, deadlines and circuit (layout: NamedLocations).
 */
@Injectable()
export class NamedCaches {
  private readonly flights: SingleFlight<ValueOutcome>;
  private readonly logger = new Logger('RedisCache');
  private readonly warned = new Set<string>();
  private readonly maxEntryBytes: number;
  /** The module's fail-safe defaults, which namespaces start from. */
  readonly failSafeDefaults: FailSafePolicy;

  constructor(
    readonly locations: NamedLocations,
    private readonly tiers: TieredCache,
    private readonly batch: NamedTier,
    private readonly invalidator: Invalidator,
    private readonly keys: KeySpace,
    private readonly bus: InvalidationBus,
    private readonly gateway: RedisGateway,
    private readonly failSafe: FailSafe,
    @Inject(ENTRY_STORE) private readonly store: EntryStore,
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
  ) {
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
    this.failSafeDefaults = failSafePolicy(
      options.failSafe,
      NO_FAIL_SAFE,
      'RedisCacheModule option failSafe',
    );
    this.flights = new SingleFlight<ValueOutcome>(bus.ledger);
  }

  /** Declares (or re-declares) a namespace and returns a handle on it. */
  namespace<T>(name: string, options: NamespaceOptions<T>): NamedCache<T> {
    return new NamedCacheHandle<T>(this, this.locations.configure(name, options, this.failSafeDefaults));
  }

  async get<T>(config: NamespaceConfig<T>, location: EntryLocation): Promise<T | undefined> {
    const read = await this.tiers.readThrough(location);
    if (read.kind !== 'hit') return undefined;
    return (await this.unpack(config, read.entry))?.value;
  }

  async getMany<T>(config: NamespaceConfig<T>, locations: EntryLocation[]): Promise<(T | undefined)[]> {
    const entries = await this.batch.readMany(locations);
    return Promise.all(
      entries.map(async (entry) => (entry ? (await this.unpack(config, entry))?.value : undefined)),
    );
  }

  async setMany<T>(
    config: NamespaceConfig<T>,
    items: { location: EntryLocation; value: T }[],
    ttlMs: number,
  ): Promise<void> {
    const packed = await Promise.all(items.map(({ location, value }) => this.pack(config, location, value)));
    const lifetime = { ttlMs, graceMs: config.failSafe.graceMs };
    await this.batch.writeCurrent(
      items.flatMap(({ location }, i) => (packed[i] ? [{ location, packed: packed[i], lifetime }] : [])),
    );
  }

  /**
   * Bumps the delete buckets of these keys (with the fallbacks of any invalidation: never throws, and nothing older
   * is served once it resolved), then frees the values' memory in the background.
   */
  async delete(
    config: NamespaceConfig<unknown>,
    keys: readonly (string | number)[],
    tenant: string | undefined,
  ): Promise<void> {
    const logicalKeys = keys.map((key) => joinKey(keySegments(key)));
    const buckets = [...new Set(logicalKeys.map((key) => this.locations.deletionKey(config, key, tenant)))];
    await this.invalidator.invalidate(buckets);
    for (let i = 0; i < keys.length; i++) config.stats.record('delete');
    const entryKeys = logicalKeys.map((key) => this.keys.namedEntry(tenant, config.name, key));
    this.gateway.background(
      'delete',
      () => this.store.remove(entryKeys),
      () => undefined,
    );
  }

  /** Bumps the counter of `prefix` (a whole number of leading segments) in the namespace, or the namespace's. */
  async invalidate(
    config: NamespaceConfig<unknown>,
    prefix: string,
    tenant: string | undefined,
  ): Promise<void> {
    const trimmed = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
    const segments = trimmed === '' ? [] : keySegments(trimmed);
    if (segments.length > config.prefixDepth)
      throw new InvalidKeyPatternError(
        `namespace '${config.name}': invalidate('${prefix.slice(0, 80)}') names ${segments.length} segments, but ` +
          `keys carry counters for the first ${config.prefixDepth} only: raise prefixDepth or invalidate a shorter prefix`,
      );
    await this.invalidator.invalidate([this.keys.namedGeneration(tenant, config.name, segments)]);
  }

  /**
   * Get-or-compute with single-flight, at a location: L1, the store, a flight already computing it; then one
   * `compute` per process, stored under the generations read before it ran. With a grace, a graced value stands in
   * when `compute` throws (not with a 4xx), runs past `softTimeout`, or failed less than `graceBackoff` ago; and
   * with `staleWhileRevalidate` at once, while one refresh runs in the background.
   */
  async wrap<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    compute: () => T | Promise<T>,
    call: { ttlMs: number; policy: FailSafePolicy },
  ): Promise<T> {
    const { policy } = call;
    if (policy.graceMs === 0) {
      const joined = this.flights.join(location.entryKey);
      if (joined) return this.joinFlight(config, location, joined);
    }
    const read = await this.tiers.readThrough(location);
    let lookup: MissOrBypass;
    if (read.kind === 'hit') {
      const found = await this.unpack(config, read.entry);
      if (found) return found.value;
      // Written by another codec or corrupted, but under current generations: replace it.
      const { generations } = read.entry as CacheEntry;
      lookup = {
        kind: 'miss',
        generations,
        snapshot: this.bus.ledger.snapshot(),
        verifiedAt: performance.now(),
      };
    } else {
      lookup = read;
    }
    const graced = policy.graceMs > 0 ? await this.gracedValue(config, location, lookup) : undefined;
    if (graced && this.failSafe.inBackoff(location.entryKey)) return this.stale(config, graced, 'backoff');
    if (graced && policy.staleWhileRevalidate) {
      const refresh = () => this.computeAndStore(config, location, lookup, compute, call);
      this.failSafe.refreshOnce(location.entryKey, refresh, policy);
      return this.stale(config, graced, 'stale-while-revalidate');
    }
    const concurrent = this.flights.join(location.entryKey);
    const production = concurrent
      ? this.joinFlight(config, location, concurrent)
      : this.computeAndStore(config, location, lookup, compute, call);
    if (!graced && policy.hardTimeoutMs === 0) return production;
    const outcome = await this.failSafe.within(
      production,
      graced ? policy.softTimeoutMs : policy.hardTimeoutMs,
    );
    if (outcome.state === 'done') return outcome.value;
    if (outcome.state === 'failed') {
      if (!graced || isClientError(outcome.error)) throw outcome.error;
      this.failSafe.backOff(location.entryKey, policy);
      return this.stale(config, graced, 'error');
    }
    this.failSafe.finishInBackground(location.entryKey, production, policy);
    if (graced) return this.stale(config, graced, 'timeout');
    throw new CacheTimeoutError(
      `namespace '${config.name}': compute took longer than ${policy.hardTimeoutMs} ms`,
    );
  }

  /** Leads a flight: runs `compute`, stores its value under the lookup's generations, shares the outcome. */
  private async computeAndStore<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    lookup: MissOrBypass,
    compute: () => T | Promise<T>,
    call: { ttlMs: number; policy: FailSafePolicy },
  ): Promise<T> {
    const lead = this.flights.lead(location, lookup.snapshot);
    let value: T;
    try {
      value = await compute();
    } catch (error) {
      lead.reject(error);
      throw error;
    }
    const packed = await this.pack(config, location, value);
    if (packed) {
      const lifetime = { ttlMs: call.ttlMs, graceMs: call.policy.graceMs };
      this.tiers.fill(location, lookup, { etag: '', contentType: packed.tag, body: packed.body }, lifetime);
      if (lookup.kind === 'miss') location.stats.record('set');
    }
    lead.resolve({ value, packed });
    return value;
  }

  /** The graced value that could stand in: from the read, or from L1 (Redis away); never an invalidated one. */
  private async gracedValue<T>(config: NamespaceConfig<T>, location: EntryLocation, lookup: MissOrBypass) {
    const graced =
      (lookup.kind === 'miss' ? lookup.graced : undefined) ?? this.tiers.readLocalGraced(location);
    return graced && (await unpackValue(config.codec, graced.contentType, graced.body));
  }

  private stale<T>(config: NamespaceConfig<T>, graced: { value: T }, reason: StaleReason): T {
    this.failSafe.served(config.stats, config.name, reason);
    return graced.value;
  }

  private async joinFlight<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    flight: Promise<ValueOutcome>,
  ): Promise<T> {
    location.stats.record('singleFlightJoin');
    const { value, packed } = await flight;
    if (!packed) return value as T;
    // Each caller gets a copy of its own, as from the cache: nobody can mutate another caller's value.
    const copy = await unpackValue(config.codec, packed.tag, packed.body);
    return (copy ? copy.value : value) as T;
  }

  /** Encodes a value for storage; undefined (logged once per namespace) for one that cannot or should not be stored. */
  async pack<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    value: T,
  ): Promise<PackedValue | undefined> {
    if (value === undefined) return undefined;
    try {
      const packed = await packValue(config.codec, value, config.compressAbove);
      if (packed.body.length <= this.maxEntryBytes) return packed;
      this.warnOnce(config.name, `a value of ${packed.body.length} bytes is over maxEntryBytes: not stored`);
    } catch (error) {
      location.stats.record('error');
      this.warnOnce(config.name, `a value could not be encoded (${(error as Error).message}): not stored`);
    }
    return undefined;
  }

  private async unpack<T>(config: NamespaceConfig<T>, entry: { contentType: string; body: string | Buffer }) {
    const found = await unpackValue(config.codec, entry.contentType, entry.body);
    if (!found) config.stats.record('error');
    return found;
  }

  private warnOnce(namespace: string, message: string): void {
    if (this.warned.has(`${namespace}\n${message.slice(0, 12)}`)) return;
    this.warned.add(`${namespace}\n${message.slice(0, 12)}`);
    this.logger.warn(`namespace '${namespace}': ${message} (warned once)`);
  }
}
