import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common';
import { defer, from, lastValueFrom, mergeMap, Observable, of } from 'rxjs';
import { DEFAULT_MAX_ENTRY_BYTES, X_CACHE_HEADER } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions, StaleReason } from '../redis-cache.types.js';
import type { HttpPlatform, PlatformRequest, PlatformResponse } from '../platform/http-platform.js';
import { compressionOf, storedForm } from '../platform/content-encoding.js';
import { PlatformHost } from '../platform/platform-host.js';
import { prepareStoredResponse, serialiseResult, setCacheControl } from '../platform/stored-response.js';
import { FailSafe, isClientError } from '../resilience/fail-safe.js';
import { etagOf, type GracedResponse, type StoredResponse } from '../storage/cache-entry.js';
import type { EntryLocation } from '../storage/entry-store.js';
import { CacheLookup, type ResponseOutcome } from '../tiers/cache-lookup.js';
import { FleetLeases } from '../tiers/fleet-leases.js';
import type { FlightLead } from '../tiers/single-flight.js';
import { TieredCache, type MissOrBypass } from '../tiers/tiered-cache.js';
import { CacheRegistry } from './cache-registry.js';
import type { CachedPlan } from './handler-plans.js';

/** Where a response is going and how to send it: the same on Fastify and Express. */
interface Exchange {
  platform: HttpPlatform;
  request: PlatformRequest;
  response: PlatformResponse;
  plan: CachedPlan;
  /** Set once the fail-safe answered (STALE, or a 503): the response's status is then no longer the handler's. */
  answeredByFailSafe?: boolean;
}

/** What the handler produced: bytes that were (or could have been) stored, or a result to pass through as it is. */
type Produced =
  { kind: 'stored'; stored: StoredResponse; cacheStatus: string } | { kind: 'passthrough'; result: unknown };

/**
 * The read side of @Cached, for GET and HEAD. A hit sends the stored bytes as they are, with their ETag and
 * `X-Cache: HIT`; a miss runs the handler, serialises its result once, sends those bytes (`X-Cache: MISS`) and
 * stores them without making the response wait; when the cache cannot be used the response says `X-Cache: BYPASS`.
 * Concurrent misses of one key share one handler run. Errors are never cached. With a grace, a graced entry stands
 * in (`X-Cache: STALE`) when the handler fails, answers 5xx or runs past `softTimeout` (ARCHITECTURE.md §11).
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly maxEntryBytes: number;

  constructor(
    private readonly registry: CacheRegistry,
    private readonly tiers: TieredCache,
    private readonly lookups: CacheLookup,
    private readonly platforms: PlatformHost,
    private readonly failSafe: FailSafe,
    private readonly leases: FleetLeases,
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
    if (!location) return this.plain(exchange, undefined, lookup, next);
    // While this request read Redis, a concurrent one may have filled L1 or be running the handler for this key.
    const filled = this.tiers.readLocal(location);
    if (filled) return of(this.sendStored(exchange, filled));
    const policy = plan.failSafe;
    const graced =
      policy.graceMs > 0
        ? ((lookup.kind === 'miss' ? lookup.graced : undefined) ?? this.tiers.readLocalGraced(location))
        : undefined;
    if (graced && this.failSafe.inBackoff(location.entryKey))
      return of(this.sendStale(exchange, location, graced, 'backoff'));
    if (graced && policy.staleWhileRevalidate) {
      // Zero wait on the fleet lease: if another instance is already refreshing this key, this one does not.
      const refresh = () => this.produce(exchange, location, lookup, next, undefined, 0);
      this.failSafe.refreshOnce(location.entryKey, refresh, policy);
      return of(this.sendStale(exchange, location, graced, 'stale-while-revalidate'));
    }
    const flight = this.lookups.flights.join(location.entryKey);
    if (flight) {
      this.tiers.countSingleFlightJoin(location);
      const joined = flight.then((outcome): Produced | Promise<Produced> =>
        outcome
          ? { kind: 'stored', stored: outcome.response, cacheStatus: outcome.cacheStatus }
          : this.produce(exchange, location, lookup, next),
      );
      if (graced || policy.hardTimeoutMs > 0)
        return from(this.failSafely(exchange, location, graced, joined));
      return defer(() => joined).pipe(mergeMap(async (produced) => this.respond(exchange, produced)));
    }
    const lead = this.lookups.flights.lead(location, lookup.snapshot);
    if (graced || policy.hardTimeoutMs > 0)
      return from(
        this.failSafely(exchange, location, graced, this.produce(exchange, location, lookup, next, lead)),
      );
    return this.plain(exchange, location, lookup, next, lead);
  }

  /** A miss or bypass without fail-safe: the handler's answer, whatever it is (its errors included). */
  private plain(
    exchange: Exchange,
    location: EntryLocation | undefined,
    lookup: MissOrBypass,
    next: CallHandler,
    lead?: FlightLead<ResponseOutcome>,
  ): Observable<unknown> {
    // Before the handler runs, so that its error answers carry them too.
    setCacheControl(exchange.platform, exchange.response, exchange.plan);
    return defer(() => this.produce(exchange, location, lookup, next, lead)).pipe(
      mergeMap(async (produced) => this.respond(exchange, produced)),
    );
  }

  /**
   * Answers the handler's result if it comes in time and is not a server failure; otherwise the graced entry
   * (`STALE`), or without one a 503 once `hardTimeout` passed. A late handler finishes in the background and fills
   * the cache; a failed one puts the key in back-off, so that the next requests answer stale without trying.
   */
  private async failSafely(
    exchange: Exchange,
    location: EntryLocation,
    graced: GracedResponse | undefined,
    production: Promise<Produced>,
  ): Promise<unknown> {
    const policy = exchange.plan.failSafe;
    setCacheControl(exchange.platform, exchange.response, exchange.plan);
    const outcome = await this.failSafe.within(
      production,
      graced ? policy.softTimeoutMs : policy.hardTimeoutMs,
    );
    if (outcome.state === 'done') {
      const failedWith5xx =
        outcome.value.kind === 'passthrough' && exchange.platform.statusCode(exchange.response) >= 500;
      if (!(graced && failedWith5xx)) return this.respond(exchange, outcome.value);
      this.failSafe.backOff(location.entryKey, policy);
      return this.sendStale(exchange, location, graced, 'error');
    }
    if (outcome.state === 'failed') {
      if (!graced || isClientError(outcome.error)) throw outcome.error;
      this.failSafe.backOff(location.entryKey, policy);
      return this.sendStale(exchange, location, graced, 'error');
    }
    exchange.answeredByFailSafe = true;
    this.failSafe.finishInBackground(location.entryKey, production, policy);
    if (graced) return this.sendStale(exchange, location, graced, 'timeout');
    throw new ServiceUnavailableException(`No answer within ${policy.hardTimeoutMs} ms; retry shortly`);
  }

  private sendStored(exchange: Exchange, stored: StoredResponse, cacheStatus = 'HIT'): string | Buffer {
    const { platform, request, response, plan } = exchange;
    return platform.payload(prepareStoredResponse(platform, request, response, plan, stored, cacheStatus));
  }

  private sendStale(
    exchange: Exchange,
    location: EntryLocation,
    graced: GracedResponse,
    reason: StaleReason,
  ) {
    this.failSafe.served(location.stats, exchange.plan.label, reason);
    const ageSeconds =
      graced.storedAt > 0 ? Math.max(0, Math.floor((Date.now() - graced.storedAt) / 1000)) : 0;
    exchange.platform.setHeader(exchange.response, 'age', String(ageSeconds));
    return this.sendStored(exchange, graced, 'STALE');
  }

  /** Sends what the handler produced: its stored bytes with their headers, or its result as it is. */
  private respond(exchange: Exchange, produced: Produced): unknown {
    const { platform, request, response, plan } = exchange;
    if (produced.kind === 'passthrough') {
      platform.setHeader(response, X_CACHE_HEADER, 'BYPASS');
      return produced.result;
    }
    const body = prepareStoredResponse(
      platform,
      request,
      response,
      plan,
      produced.stored,
      produced.cacheStatus,
    );
    // What the handler produced goes as Nest would send it; bytes (compressed, or another instance's fill) as bytes.
    return typeof body === 'string' ? body : platform.payload(body);
  }

  /**
   * Runs the handler, serialises its result once and stores it (under the generations read before it ran), and
   * shares the outcome with the requests that joined; never touches the response, so that it may finish after a
   * stale answer was sent. First the fleet lease: another instance computing this key means waiting for its fill
   * (at most `fleetWaitMs`; 0: skip instead, for a background refresh).
   */
  private async produce(
    exchange: Exchange,
    location: EntryLocation | undefined,
    lookup: MissOrBypass,
    next: CallHandler,
    lead?: FlightLead<ResponseOutcome>,
    fleetWaitMs = this.leases.waitMs,
  ): Promise<Produced> {
    const turn = location ? await this.leases.turn(location, lookup, fleetWaitMs) : undefined;
    if (turn?.kind === 'skip') {
      lead?.resolve(undefined);
      return { kind: 'passthrough', result: undefined };
    }
    if (turn?.kind === 'filled') {
      const { etag, contentType, body, encoding } = turn.entry;
      const stored = { etag, contentType, body, encoding };
      lead?.resolve({ response: stored, cacheStatus: 'MISS' });
      return { kind: 'stored', stored, cacheStatus: 'MISS' };
    }
    const lease = turn?.lease;
    let result: unknown;
    try {
      result = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      lease?.release();
      lead?.reject(error);
      throw error;
    }
    const serialised = serialiseResult(exchange.platform, result);
    const status = exchange.answeredByFailSafe ? 200 : exchange.platform.statusCode(exchange.response);
    if (!serialised || status >= 300) {
      // Those who joined run the handler themselves.
      lease?.release();
      lead?.resolve(undefined);
      return { kind: 'passthrough', result };
    }
    const { body, contentType } = serialised;
    const plan = exchange.plan;
    const storable = location !== undefined && Buffer.byteLength(body) <= this.maxEntryBytes;
    // Compressed once, here: the miss itself and those who joined it send the same representation as later hits.
    const plain = { etag: etagOf(body), contentType, body };
    const stored = storable ? storedForm(plain, compressionOf(exchange.platform, plan)) : plain;
    const lifetime = { ttlMs: plan.ttlMs, graceMs: plan.failSafe.graceMs };
    // The lease goes once the entry is in Redis, so that waiting instances find it rather than compute.
    if (storable) void this.tiers.fill(location, lookup, stored, lifetime).then(() => lease?.release());
    else lease?.release();
    const cacheStatus = storable && lookup.kind === 'miss' ? 'MISS' : 'BYPASS';
    lead?.resolve({ response: stored, cacheStatus });
    return { kind: 'stored', stored, cacheStatus };
  }
}
