import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defer, finalize, map, mergeMap, Observable, of, tap } from 'rxjs';
import { X_CACHE_HEADER } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { etagOf } from '../storage/cache-entry.js';
import { CacheLookup, prepareStoredResponse, setCacheControl } from '../tiers/cache-lookup.js';
import { CacheRegistry, type CachedPlan } from './cache-registry.js';
import { CacheStore, type EntryLocation, type ReadResult } from '../storage/cache-store.js';
import type { FlightLead } from '../tiers/single-flight.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * The read side of @Cached. A hit sends the stored bytes as they are, with their ETag and `X-Cache: HIT`; a miss
 * runs the handler, serialises its result once, sends those bytes (`X-Cache: MISS`) and stores them without making
 * the response wait; when the cache cannot be used the response says `X-Cache: BYPASS`. Concurrent misses of one
 * key share one handler run. Errors are never cached.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly maxEntryBytes: number;

  constructor(
    private readonly registry: CacheRegistry,
    private readonly store: CacheStore,
    private readonly lookups: CacheLookup,
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

    const { location, lookup } = await this.lookups.lookup(plan, request);
    if (lookup.kind === 'hit') {
      prepareStoredResponse(reply, plan, lookup.entry);
      return of(lookup.entry.body);
    }
    // While this request read Redis, a concurrent one may have filled L1 or be running the handler for this key.
    const filled = this.store.readLocal(location);
    if (filled) {
      prepareStoredResponse(reply, plan, filled);
      return of(filled.body);
    }
    const flight = this.lookups.flights.join(location.entryKey);
    if (flight) {
      this.store.count(location.label, 'singleFlightJoins');
      return defer(() => flight).pipe(
        mergeMap((outcome) => {
          if (!outcome) return this.handle(plan, location, lookup, reply, next);
          prepareStoredResponse(reply, plan, outcome.response, outcome.cacheStatus);
          return of(outcome.response.body);
        }),
      );
    }
    return this.handle(
      plan,
      location,
      lookup,
      reply,
      next,
      this.lookups.flights.lead(location, lookup.snapshot),
    );
  }

  /** Runs the handler for a miss or a bypass, and stores and shares what it answered. */
  private handle(
    plan: CachedPlan,
    location: EntryLocation,
    lookup: Exclude<ReadResult, { kind: 'hit' }>,
    reply: FastifyReply,
    next: CallHandler,
    lead?: FlightLead,
  ): Observable<unknown> {
    setCacheControl(reply, plan);
    return next.handle().pipe(
      map((result: unknown) => {
        if (result === undefined || typeof result === 'function' || reply.statusCode >= 300) {
          void reply.header(X_CACHE_HEADER, 'BYPASS');
          return result;
        }
        const body = JSON.stringify(result);
        const response = { etag: etagOf(body), contentType: JSON_CONTENT_TYPE, body };
        void reply.header('content-type', response.contentType).header('etag', response.etag);
        const storable = Buffer.byteLength(body) <= this.maxEntryBytes;
        if (storable) this.store.fill(location, lookup, response, plan.ttlMs);
        const cacheStatus = storable && lookup.kind === 'miss' ? 'MISS' : 'BYPASS';
        void reply.header(X_CACHE_HEADER, cacheStatus);
        lead?.resolve({ response, cacheStatus });
        return body;
      }),
      tap({ error: (error: unknown) => lead?.reject(error) }),
      // A handler that completes without a value: those who joined run it themselves.
      finalize(() => lead?.resolve(undefined)),
    );
  }
}
