import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { map, Observable, of } from 'rxjs';
import { X_CACHE_HEADER } from './cache.constants.js';
import { REDIS_CACHE_OPTIONS } from './cache.module-definition.js';
import type { RedisCacheModuleOptions } from './cache.types.js';
import { resolvePlaceholder, tenantOf, viewerOf } from './cache-context.js';
import { etagOf, type CacheEntry } from './cache-entry.js';
import { joinKey, renderSegments } from './cache-key.util.js';
import { CacheRegistry, type CachedPlan } from './cache-registry.js';
import { CacheStore, type EntryLocation, type ReadResult } from './cache-store.js';
import { KeySpace } from './key-space.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * The read side of @Cached. A hit sends the stored bytes as they are, with their ETag and `X-Cache: HIT`; a miss
 * runs the handler, serialises its result once, sends those bytes (`X-Cache: MISS`) and stores them without making
 * the response wait; when the cache cannot be used the response says `X-Cache: BYPASS`. Errors are never cached.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly maxEntryBytes: number;
  private readonly locations = new LRUCache<string, EntryLocation>({ max: 10_000 });
  private readonly lookups = new WeakMap<
    FastifyRequest,
    Promise<{ location: EntryLocation; lookup: ReadResult }>
  >();

  constructor(
    private readonly registry: CacheRegistry,
    private readonly store: CacheStore,
    private readonly keys: KeySpace,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
  ) {
    this.maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const plan = this.registry.cachedPlan(context.getHandler());
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (!plan || request.method !== 'GET' || this.options.enabled === false) return next.handle();

    const { location, lookup } = await this.lookup(plan, request);
    if (lookup.kind === 'hit') {
      this.prepareHit(reply, plan, lookup.entry);
      return of(lookup.entry.body);
    }
    this.setCacheControl(reply, plan);
    return next.handle().pipe(
      map((result: unknown) => {
        if (result === undefined || typeof result === 'function' || reply.statusCode >= 300) {
          void reply.header(X_CACHE_HEADER, 'BYPASS');
          return result;
        }
        const body = JSON.stringify(result);
        const etag = etagOf(body);
        void reply.header('content-type', JSON_CONTENT_TYPE).header('etag', etag);
        if (lookup.kind === 'miss' && Buffer.byteLength(body) <= this.maxEntryBytes) {
          this.store.fill(
            location,
            { generations: lookup.generations, etag, contentType: JSON_CONTENT_TYPE, body },
            plan.ttlMs,
          );
          void reply.header(X_CACHE_HEADER, 'MISS');
        } else {
          void reply.header(X_CACHE_HEADER, 'BYPASS');
        }
        return body;
      }),
    );
  }

  /**
   * Reads the cache for this request, once: the fast hit path and the interceptor share the result, so a miss
   * found before Nest's pipeline is not read again.
   */
  lookup(
    plan: CachedPlan,
    request: FastifyRequest,
  ): Promise<{ location: EntryLocation; lookup: ReadResult }> {
    let pending = this.lookups.get(request);
    if (!pending) {
      pending = this.locate(plan, request).then(async (location) => ({
        location,
        lookup: await this.store.read(location),
      }));
      this.lookups.set(request, pending);
    }
    return pending;
  }

  /** Headers of a hit; the body is the stored string, sent as it is. */
  prepareHit(reply: FastifyReply, plan: CachedPlan, entry: CacheEntry): void {
    this.setCacheControl(reply, plan);
    void reply
      .header('content-type', entry.contentType)
      .header('etag', entry.etag)
      .header(X_CACHE_HEADER, 'HIT');
  }

  /**
   * The entry key and covering generation counters of this request, from validated arguments. Deterministic for a
   * route, its raw params and query, the viewer and the tenant, so hot keys skip validation and rendering.
   */
  private async locate(plan: CachedPlan, request: FastifyRequest): Promise<EntryLocation> {
    const viewerId = viewerOf(request);
    const tenant = tenantOf(request, this.options);
    const memoKey = JSON.stringify([plan.routePath, request.params, request.query, viewerId, tenant]);
    const known = this.locations.get(memoKey);
    if (known) return known;
    const validated = await this.registry.validate(plan.slots, request);
    const sources = { ...validated, viewerId, tenant };
    const segments = renderSegments(plan.pattern, (name) => resolvePlaceholder(name, sources));
    const location = {
      entryKey: this.keys.entry(tenant, joinKey(segments)),
      generationKeys: [
        this.keys.rootGeneration,
        ...plan.coveringLengths.map((length) => this.keys.generation(tenant, segments.slice(0, length))),
      ],
    };
    this.locations.set(memoKey, location);
    return location;
  }

  /** Browsers revalidate every time (with the ETag); per-viewer responses are private and vary by credentials. */
  private setCacheControl(reply: FastifyReply, plan: CachedPlan): void {
    if (plan.perViewer)
      void reply.header('cache-control', 'private, no-cache').header('vary', 'Authorization');
    else void reply.header('cache-control', 'no-cache');
  }
}
