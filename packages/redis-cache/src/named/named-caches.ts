import { Inject, Injectable } from '@nestjs/common';
import { InvalidKeyPatternError } from '../errors.js';
import { failSafePolicy, NO_FAIL_SAFE, type FailSafePolicy } from '../resilience/fail-safe.js';
import { afterCommit } from '../invalidation/after-commit.js';
import { Invalidator } from '../invalidation/invalidator.js';
import { joinKey } from '../keys/cache-key.util.js';
import { KeySpace } from '../keys/key-space.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { ENTRY_STORE, type EntryLocation, type EntryStore } from '../storage/entry-store.js';
import { RedisGateway } from '../resilience/redis-gateway.js';
import { TieredCache } from '../tiers/tiered-cache.js';
import { NamedCacheHandle } from './named-cache.js';
import type { NamedCache, NamespaceOptions } from './named-cache.types.js';
import { NamedTier } from './named-tier.js';
import { keySegments, NamedLocations, type NamespaceConfig } from './named-locations.js';
import { NamedValues } from './named-values.js';
import { NamedWrap, type WrapCall } from './named-wrap.js';

/**
 * Named caches and decorated provider methods (ARCHITECTURE.md §9.2, §9.3): values in the same two tiers as
 * responses, with the same generation checks, bus coherence, deadlines and circuit (layout: NamedLocations;
 * get-or-compute: NamedWrap).
 */
@Injectable()
export class NamedCaches {
  /** The module's fail-safe defaults, which namespaces start from. */
  readonly failSafeDefaults: FailSafePolicy;

  constructor(
    readonly locations: NamedLocations,
    private readonly tiers: TieredCache,
    private readonly batch: NamedTier,
    private readonly invalidator: Invalidator,
    private readonly keys: KeySpace,
    private readonly gateway: RedisGateway,
    private readonly values: NamedValues,
    private readonly wrapper: NamedWrap,
    @Inject(ENTRY_STORE) private readonly store: EntryStore,
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
  ) {
    this.failSafeDefaults = failSafePolicy(
      options.failSafe,
      NO_FAIL_SAFE,
      'RedisCacheModule option failSafe',
    );
  }

  /** Declares (or re-declares) a namespace and returns a handle on it. */
  namespace<T>(name: string, options: NamespaceOptions<T>): NamedCache<T> {
    return new NamedCacheHandle<T>(this, this.locations.configure(name, options, this.failSafeDefaults));
  }

  async get<T>(config: NamespaceConfig<T>, location: EntryLocation): Promise<T | undefined> {
    const read = await this.tiers.readThrough(location);
    if (read.kind !== 'hit') return undefined;
    return (await this.values.unpack(config, read.entry))?.value;
  }

  async getMany<T>(config: NamespaceConfig<T>, locations: EntryLocation[]): Promise<(T | undefined)[]> {
    const entries = await this.batch.readMany(locations);
    return Promise.all(
      entries.map(async (entry) => (entry ? (await this.values.unpack(config, entry))?.value : undefined)),
    );
  }

  async setMany<T>(
    config: NamespaceConfig<T>,
    items: { location: EntryLocation; value: T }[],
    ttlMs: number,
  ): Promise<void> {
    const packed = await Promise.all(
      items.map(({ location, value }) => this.values.pack(config, location, value)),
    );
    const lifetime = { ttlMs, graceMs: config.failSafe.graceMs };
    await this.batch.writeCurrent(
      items.flatMap(({ location }, i) => (packed[i] ? [{ location, packed: packed[i], lifetime }] : [])),
    );
  }

  /**
   * Bumps the delete buckets of these keys (with the fallbacks of any invalidation: never throws, and nothing older
   * is served once it resolved), then frees the values' memory in the background. Inside {@link runAfterCommit},
   * both wait for the commit.
   */
  delete(
    config: NamespaceConfig<unknown>,
    keys: readonly (string | number)[],
    tenant: string | undefined,
  ): Promise<void> {
    const logicalKeys = keys.map((key) => joinKey(keySegments(key)));
    const buckets = [...new Set(logicalKeys.map((key) => this.locations.deletionKey(config, key, tenant)))];
    return afterCommit(buckets, async () => {
      await this.invalidator.invalidate(buckets);
      for (let i = 0; i < keys.length; i++) config.stats.record('delete');
      const entryKeys = logicalKeys.map((key) => this.keys.namedEntry(tenant, config.name, key));
      void this.gateway.background(
        'delete',
        () => this.store.remove(entryKeys),
        () => undefined,
      );
    });
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

  /** Get-or-compute, once per process and per fleet, with the namespace's fail-safe: see {@link NamedWrap}. */
  wrap<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    compute: () => T | Promise<T>,
    call: WrapCall,
  ): Promise<T> {
    return this.wrapper.wrap(config, location, compute, call);
  }
}
