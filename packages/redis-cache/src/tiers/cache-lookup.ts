import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { CachedPlan } from '../decorators/handler-plans.js';
import type { ValidatedArguments } from '../decorators/argument-pipes.js';
import { CacheRegistry } from '../decorators/cache-registry.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import { CacheCounters } from '../observability/cache-counters.js';
import { resolvePlaceholder, tenantOf, viewerOf } from '../keys/cache-context.js';
import { joinKey, renderSegments } from '../keys/cache-key.util.js';
import { KeySpace } from '../keys/key-space.js';
import type { PlatformRequest } from '../platform/http-platform.js';
import { PlatformHost } from '../platform/platform-host.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import type { StoredResponse } from '../storage/cache-entry.js';
import type { EntryLocation } from '../storage/entry-store.js';
import { SingleFlight } from './single-flight.js';
import { TieredCache, type ReadResult } from './tiered-cache.js';

/** What a finished response flight gives the requests that joined it: the response, or nothing (run it yourself). */
export type ResponseOutcome = { response: StoredResponse; cacheStatus: string } | undefined;

export interface Lookup {
  /** Undefined when the request cannot have an entry (a query parameter its key does not name). */
  location: EntryLocation | undefined;
  lookup: ReadResult;
}

/** Memoised for requests that carry a query parameter the key does not name: they are never cached. */
const UNKEYED = false;

/**
 * Per-request cache state shared by the fast hit hook and every CacheInterceptor instance (Nest creates one per
 * module that uses @Cached): where a request's entry lives, the one read of it, and the in-flight misses.
 */
@Injectable()
export class CacheLookup {
  readonly flights: SingleFlight<ResponseOutcome>;
  private readonly logger = new Logger('RedisCache');
  private readonly locations = new LRUCache<string, EntryLocation | typeof UNKEYED>({ max: 10_000 });
  private readonly lookups = new WeakMap<PlatformRequest, Promise<Lookup>>();
  /** Routes already warned about unkeyed query parameters: one line per route, not per request. */
  private readonly warned = new Set<number>();

  constructor(
    private readonly registry: CacheRegistry,
    private readonly tiers: TieredCache,
    private readonly keys: KeySpace,
    private readonly platforms: PlatformHost,
    private readonly counters: CacheCounters,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
    bus: InvalidationBus,
  ) {
    this.flights = new SingleFlight<ResponseOutcome>(bus.ledger);
  }

  /**
   * Reads the cache for this request, once: the fast hit path and the interceptor share the result, so a miss
   * found before Nest's pipeline is not read again. Unless the caller has already let pending I/O run
   * (`ioSettled`), the read waits for it first: see {@link afterPendingIo}.
   */
  lookup(plan: CachedPlan, request: PlatformRequest, ioSettled = false): Promise<Lookup> {
    let pending = this.lookups.get(request);
    if (!pending) {
      pending = (
        ioSettled ? this.locate(plan, request) : afterPendingIo().then(() => this.locate(plan, request))
      ).then(async (location) => ({
        location,
        lookup: location
          ? await this.tiers.readThrough(location)
          : this.tiers.bypassUnread(this.counters.route(plan.label), 'unkeyed-query'),
      }));
      this.lookups.set(request, pending);
    }
    return pending;
  }

  /**
   * The L1 entry for this request, synchronously, if its location is already known. Call it only once pending
   * I/O has run ({@link afterPendingIo}). Undefined means "ask {@link lookup}" (which may still find it).
   */
  localHit(plan: CachedPlan, request: PlatformRequest): StoredResponse | undefined {
    const location = this.locations.get(this.memoKey(plan, request));
    return location ? this.tiers.readLocal(location) : undefined;
  }

  /**
   * The route, the raw URL (it determines params and query; a request line cannot hold a newline), the viewer and
   * the tenant. Cheaper than serialising the parsed params and query; spelling variants merely take more slots.
   */
  private memoKey(plan: CachedPlan, request: PlatformRequest): string {
    const viewer = viewerOf(request);
    const tenant = tenantOf(request, this.options);
    const scope = viewer === undefined && tenant === undefined ? '' : JSON.stringify([viewer, tenant]);
    return `${plan.id}\n${this.platforms.current!.rawUrl(request)}\n${scope}`;
  }

  /**
   * The entry key and covering generation counters of this request, from validated arguments; undefined when the
   * query carries a parameter the key does not name (serving it from another request's entry could be wrong).
   * Deterministic for a route, its raw URL, the viewer and the tenant, so hot keys skip validation and rendering.
   */
  private async locate(plan: CachedPlan, request: PlatformRequest): Promise<EntryLocation | undefined> {
    const memoKey = this.memoKey(plan, request);
    const known = this.locations.get(memoKey);
    if (known !== undefined) return known === UNKEYED ? undefined : known;
    const validated = await this.registry.validate(plan.slots, request);
    const unkeyed = Object.keys((request.query ?? {}) as object).filter((name) => !plan.keyedQuery.has(name));
    if (unkeyed.length > 0) {
      this.warnUnkeyed(plan, unkeyed);
      this.locations.set(memoKey, UNKEYED);
      return undefined;
    }
    const tenant = tenantOf(request, this.options);
    const sources = { ...validated, viewerId: this.keyedViewer(plan, request, validated), tenant };
    const segments = renderSegments(plan.pattern, (name) => resolvePlaceholder(name, sources));
    const location = {
      stats: this.counters.route(plan.label),
      entryKey: this.keys.entry(tenant, joinKey(segments)),
      lookupTtlMs: plan.ttlMs,
      generationKeys: [
        this.keys.rootGeneration,
        ...plan.coveringLengths.map((length) => this.keys.generation(tenant, segments.slice(0, length))),
      ],
    };
    this.locations.set(memoKey, location);
    return location;
  }

  /** The viewer the key names: none where option scope says this request's answer is everyone's. */
  private keyedViewer(plan: CachedPlan, request: PlatformRequest, validated: ValidatedArguments): unknown {
    const viewer = viewerOf(request);
    if (!plan.viewerScope || viewer === undefined) return viewer;
    try {
      return plan.viewerScope({ params: validated.params, query: validated.query }) === 'public'
        ? undefined
        : viewer;
    } catch {
      return viewer; // an undecided request keeps its own entry: sharing one could show it another viewer's
    }
  }

  private warnUnkeyed(plan: CachedPlan, names: string[]): void {
    if (this.warned.has(plan.id)) return;
    this.warned.add(plan.id);
    const shown = names.slice(0, 3).map((name) => JSON.stringify(name.slice(0, 40)));
    this.logger.warn(
      `@Cached on ${plan.handlerName}: query parameter ${shown.join(', ')} is not in the key ` +
        `'${plan.pattern.source}', so such requests are served uncached (X-Cache: BYPASS). Add it to the ` +
        'pattern to cache them (warned once per route)',
    );
  }
}

/**
 * Resolves after the I/O callbacks already due in this turn of the event loop (`setImmediate` runs in the check
 * phase, after the poll phase). A write on another instance publishes its invalidation before it answers, so the
 * message is in this process's subscriber socket before any request issued after that answer arrives; but when
 * both are ready in the same poll, the request may be handled first, and L1, a shared read or a flight would then
 * be trusted one message too early. Deciding after this point closes that window, for one macrotask hop.
 */
export function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
