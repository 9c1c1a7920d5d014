import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  StreamableFile,
} from '@nestjs/common';
import { defer, finalize, map, mergeMap, Observable, of, tap } from 'rxjs';
import { DEFAULT_MAX_ENTRY_BYTES, X_CACHE_HEADER } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import type { HttpPlatform, PlatformRequest, PlatformResponse } from '../platform/http-platform.js';
import { PlatformHost } from '../platform/platform-host.js';
import { prepareStoredResponse, setCacheControl } from '../platform/stored-response.js';
import { etagOf } from '../storage/cache-entry.js';
import type { EntryLocation } from '../storage/entry-store.js';
import { CacheLookup, type ResponseOutcome } from '../tiers/cache-lookup.js';
import type { FlightLead } from '../tiers/single-flight.js';
import { TieredCache, type MissOrBypass } from '../tiers/tiered-cache.js';
import { CacheRegistry } from './cache-registry.js';
import type { CachedPlan } from './handler-plans.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Where a response is going and how to send it: the same on Fastify and Express. */
interface Exchange {
  platform: HttpPlatform;
  request: PlatformRequest;
  response: PlatformResponse;
  plan: CachedPlan;
}

/**
 * The read side of @Cached, for GET and HEAD. A hit sends the stored bytes as they are, with their ETag and
 * `X-Cache: HIT`; a miss runs the handler, serialises its result once, sends those bytes (`X-Cache: MISS`) and
 * stores them without making the response wait; when the cache cannot be used the response says `X-Cache: BYPASS`.
 * Concurrent misses of one key share one handler run. Errors are never cached.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly maxEntryBytes: number;

  constructor(
    private readonly registry: CacheRegistry,
    private readonly tiers: TieredCache,
    private readonly lookups: CacheLookup,
    private readonly platforms: PlatformHost,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
  ) {
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const plan = this.registry.cachedPlan(context.getHandler());
    const http = context.switchToHttp();
    const request = http.getRequest<PlatformRequest>();
    const platform = this.platforms.current;
    const readable = request.method === 'GET' || request.method === 'HEAD';
    if (!plan || !platform || !readable || this.options.enabled === false) return next.handle();
    const exchange: Exchange = { platform, request, response: http.getResponse<PlatformResponse>(), plan };
    this.registry.learnRoute(platform.routeOf(request), plan);

    const { location, lookup } = await this.lookups.lookup(plan, request);
    if (lookup.kind === 'hit') return of(this.sendStored(exchange, lookup.entry));
    if (!location) return this.handle(exchange, undefined, lookup, next);
    // While this request read Redis, a concurrent one may have filled L1 or be running the handler for this key.
    const filled = this.tiers.readLocal(location);
    if (filled) return of(this.sendStored(exchange, filled));
    const flight = this.lookups.flights.join(location.entryKey);
    if (flight) {
      this.tiers.countSingleFlightJoin(location);
      return defer(() => flight).pipe(
        mergeMap((outcome) => {
          if (!outcome) return this.handle(exchange, location, lookup, next);
          return of(this.sendStored(exchange, outcome.response, outcome.cacheStatus));
        }),
      );
    }
    const lead = this.lookups.flights.lead(location, lookup.snapshot);
    return this.handle(exchange, location, lookup, next, lead);
  }

  private sendStored(
    exchange: Exchange,
    stored: { etag: string; contentType: string; body: string | Buffer },
    cacheStatus = 'HIT',
  ): string | Buffer {
    const { platform, request, response, plan } = exchange;
    prepareStoredResponse(platform, request, response, plan, stored, cacheStatus);
    return platform.payload(stored.body);
  }

  /** Runs the handler for a miss or a bypass, and stores and shares what it answered. */
  private handle(
    exchange: Exchange,
    location: EntryLocation | undefined,
    lookup: MissOrBypass,
    next: CallHandler,
    lead?: FlightLead<ResponseOutcome>,
  ): Observable<unknown> {
    const { platform, request, response, plan } = exchange;
    setCacheControl(platform, response, plan);
    return next.handle().pipe(
      map((result: unknown) => {
        const serialised = this.serialise(platform, result);
        if (!serialised || platform.statusCode(response) >= 300) {
          platform.setHeader(response, X_CACHE_HEADER, 'BYPASS');
          return result;
        }
        const { body, contentType } = serialised;
        const stored = { etag: etagOf(body), contentType, body };
        const storable = location !== undefined && Buffer.byteLength(body) <= this.maxEntryBytes;
        if (storable) this.tiers.fill(location, lookup, stored, plan.ttlMs);
        const cacheStatus = storable && lookup.kind === 'miss' ? 'MISS' : 'BYPASS';
        prepareStoredResponse(platform, request, response, plan, stored, cacheStatus);
        lead?.resolve({ response: stored, cacheStatus });
        return body;
      }),
      tap({ error: (error: unknown) => lead?.reject(error) }),
      // A handler that completes without a value: those who joined run it themselves.
      finalize(() => lead?.resolve(undefined)),
    );
  }

  /** The bytes Nest would send for `result`: JSON for values, a string as it is; undefined for anything else. */
  private serialise(
    platform: HttpPlatform,
    result: unknown,
  ): { body: string; contentType: string } | undefined {
    if (typeof result === 'string') return { body: result, contentType: platform.textContentType };
    if (result === undefined || typeof result === 'function' || typeof result === 'symbol') return undefined;
    if (result instanceof Uint8Array || result instanceof StreamableFile || isStream(result))
      return undefined;
    return { body: JSON.stringify(result), contentType: JSON_CONTENT_TYPE };
  }
}

function isStream(value: unknown): boolean {
  return typeof (value as { pipe?: unknown } | null)?.pipe === 'function';
}
