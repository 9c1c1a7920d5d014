import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { X_CACHE_HEADER } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { resolvePlaceholder, tenantOf, viewerOf } from '../keys/cache-context.js';
import type { StoredResponse } from '../storage/cache-entry.js';
import { joinKey, renderSegments } from '../keys/cache-key.util.js';
import { CacheRegistry, type CachedPlan } from '../decorators/cache-registry.js';
import { CacheStore, type EntryLocation, type ReadResult } from '../storage/cache-store.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import type { InvalidationLedger } from '../invalidation/invalidation-ledger.js';
import { KeySpace } from '../keys/key-space.js';
import { SingleFlight } from './single-flight.js';

export interface Lookup {
  location: EntryLocation;
  lookup: ReadResult;
}

/**
 * Per-request cache state shared by the fast hit hook and every CacheInterceptor instance (Nest creates one per
 * module that uses @Cached): where a request's entry lives, the one read of it, and the in-flight misses.
 */
@Injectable()
export class CacheLookup {
  readonly flights: SingleFlight;
  private readonly ledger: InvalidationLedger;
  /** Redis reads in progress, by entry key, so that a burst of requests for one key reads it once. */
  private readonly remoteReads = new Map<string, { snapshot: number; result: Promise<ReadResult> }>();
  private readonly locations = new LRUCache<string, EntryLocation>({ max: 10_000 });
  private readonly lookups = new WeakMap<FastifyRequest, Promise<Lookup>>();

  constructor(
    private readonly registry: CacheRegistry,
    private readonly store: CacheStore,
    private readonly keys: KeySpace,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
    bus: InvalidationBus,
  ) {
    this.ledger = bus.ledger;
    this.flights = new SingleFlight(bus.ledger);
  }

  /**
   * Reads the cache for this request, once: the fast hit path and the interceptor share the result, so a miss
   * found before Nest's pipeline is not read again. Unless the caller has already let pending I/O run
   * (`ioSettled`), the read waits for it first: see {@link afterPendingIo}.
   */
  lookup(plan: CachedPlan, request: FastifyRequest, ioSettled = false): Promise<Lookup> {
    let pending = this.lookups.get(request);
    if (!pending) {
      pending = (
        ioSettled ? this.locate(plan, request) : afterPendingIo().then(() => this.locate(plan, request))
      ).then(async (location) => ({ location, lookup: await this.read(location) }));
      this.lookups.set(request, pending);
    }
    return pending;
  }

  /**
   * The L1 entry for this request, synchronously, if its location is already known. Call it only once pending
   * I/O has run ({@link afterPendingIo}). Undefined means "ask {@link lookup}" (which may still find it).
   */
  localHit(plan: CachedPlan, request: FastifyRequest): StoredResponse | undefined {
    const location = this.locations.get(this.memoKey(plan, request));
    return location && this.store.readLocal(location);
  }

  /**
   * L1, then Redis; concurrent requests for one key share one Redis read, as long as it started after the last
   * invalidation of the key's prefixes that this process knows of (a read begun before a finished write could
   * return what the write replaced).
   */
  private read(location: EntryLocation): ReadResult | Promise<ReadResult> {
    const local = this.store.readLocal(location);
    if (local) return { kind: 'hit', tier: 'l1', entry: local };
    const shared = this.remoteReads.get(location.entryKey);
    if (shared && this.ledger.isCurrent(location.generationKeys, shared.snapshot)) {
      return shared.result.then((result) => {
        this.store.countSharedRead(location, result);
        return result;
      });
    }
    const read = { snapshot: this.ledger.snapshot(), result: this.store.readRemote(location) };
    this.remoteReads.set(location.entryKey, read);
    void read.result.finally(() => {
      if (this.remoteReads.get(location.entryKey) === read) this.remoteReads.delete(location.entryKey);
    });
    return read.result;
  }

  /**
   * The raw URL (it determines params and query; a request line cannot hold a newline), the viewer and the tenant.
   * Cheaper than serialising the parsed params and query, and spelling variants merely take more memo slots.
   */
  private memoKey(plan: CachedPlan, request: FastifyRequest): string {
    const viewer = viewerOf(request);
    const tenant = tenantOf(request, this.options);
    const scope = viewer === undefined && tenant === undefined ? '' : JSON.stringify([viewer, tenant]);
    return `${plan.routePath}\n${request.url}\n${scope}`;
  }

  /**
   * The entry key and covering generation counters of this request, from validated arguments. Deterministic for a
   * route, its raw params and query, the viewer and the tenant, so hot keys skip validation and rendering.
   */
  private async locate(plan: CachedPlan, request: FastifyRequest): Promise<EntryLocation> {
    const viewerId = viewerOf(request);
    const tenant = tenantOf(request, this.options);
    const memoKey = this.memoKey(plan, request);
    const known = this.locations.get(memoKey);
    if (known) return known;
    const validated = await this.registry.validate(plan.slots, request);
    const sources = { ...validated, viewerId, tenant };
    const segments = renderSegments(plan.pattern, (name) => resolvePlaceholder(name, sources));
    const location = {
      label: statsLabel(plan),
      entryKey: this.keys.entry(tenant, joinKey(segments)),
      generationKeys: [
        this.keys.rootGeneration,
        ...plan.coveringLengths.map((length) => this.keys.generation(tenant, segments.slice(0, length))),
      ],
    };
    this.locations.set(memoKey, location);
    return location;
  }
}

/** The literal segments of a route's pattern before its first placeholder: `jobs:list`, `jobs:stats:overview`. */
export function statsLabel(plan: CachedPlan): string {
  const literals: string[] = [];
  for (const segment of plan.pattern.segments) {
    if (segment.kind !== 'literal') break;
    literals.push(segment.value);
  }
  return literals.join(':') || plan.handlerName;
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

/** Browsers revalidate every time (with the ETag); per-viewer responses are private and vary by credentials. */
export function setCacheControl(reply: FastifyReply, plan: CachedPlan): void {
  if (plan.perViewer) void reply.header('cache-control', 'private, no-cache').header('vary', 'Authorization');
  else void reply.header('cache-control', 'no-cache');
}

/** Headers of a response sent from stored bytes; the body is sent as it is. */
export function prepareStoredResponse(
  reply: FastifyReply,
  plan: CachedPlan,
  response: StoredResponse,
  cacheStatus = 'HIT',
): void {
  setCacheControl(reply, plan);
  void reply
    .header('content-type', response.contentType)
    .header('etag', response.etag)
    .header(X_CACHE_HEADER, cacheStatus);
}
