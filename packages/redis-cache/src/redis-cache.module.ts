import { Inject, Module, OnModuleInit } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { CacheInterceptor } from './decorators/cache.interceptor.js';
import { CacheRegistry } from './decorators/cache-registry.js';
import { InvalidateCacheInterceptor } from './decorators/invalidate-cache.interceptor.js';
import { UnsupportedPlatformError } from './errors.js';
import { InvalidationBus } from './invalidation/invalidation-bus.js';
import { OutboxRelay } from './invalidation/outbox-relay.js';
import { RedisTopology } from './storage/redis-topology.js';
import { Invalidator, MIN_GENERATION_TTL_MS } from './invalidation/invalidator.js';
import { KeySpace, keySpaceFor } from './keys/key-space.js';
import { DecoratedMethods } from './named/decorated-methods.js';
import { NamedCaches } from './named/named-caches.js';
import { NamedValues } from './named/named-values.js';
import { NamedWrap } from './named/named-wrap.js';
import { NamedLocations } from './named/named-locations.js';
import { NamedTier } from './named/named-tier.js';
import { RequestContext, RequestContextInterceptor } from './named/request-context.js';
import { CacheCounters } from './observability/cache-counters.js';
import { CacheEvents } from './observability/cache-events.js';
import { RedisCacheHealthIndicator } from './observability/redis-cache.health.js';
import { registerFastHits } from './platform/fast-hit.hook.js';
import { registerConditionalGet, type FastifyInstanceLike } from './platform/fastify.platform.js';
import { PlatformHost } from './platform/platform-host.js';
import { ConfigurableModuleClass, REDIS_CACHE_OPTIONS } from './redis-cache.module-definition.js';
import { RedisCacheService } from './redis-cache.service.js';
import type { RedisCacheModuleOptions } from './redis-cache.types.js';
import { WindowCounters } from './counters/window-counters.js';
import { FailSafe } from './resilience/fail-safe.js';
import { RedisGateway } from './resilience/redis-gateway.js';
import { STORAGE_PROVIDERS } from './storage/storage.providers.js';
import { CacheLookup } from './tiers/cache-lookup.js';
import { L1Tier } from './tiers/l1-tier.js';
import { FleetLeases } from './tiers/fleet-leases.js';
import { TieredCache } from './tiers/tiered-cache.js';

/** What the decorators' interceptors need; Nest instantiates them in each module that uses @Cached. */
const INTERCEPTOR_DEPENDENCIES = [
  CacheRegistry,
  TieredCache,
  FleetLeases,
  CacheLookup,
  Invalidator,
  KeySpace,
  PlatformHost,
  FailSafe,
];

/**
 * The cache: `@Cached` and `@InvalidatesCache` on any controller, `RedisCacheService` and
 * `RedisCacheHealthIndicator` for code, on Fastify or Express. Backed by Redis through cache-manager and Keyv, with
 * an in-process tier in front, or by process memory alone when no URL is configured.
 *
 * @example
 * ```ts
 * RedisCacheModule.forRoot({ url: process.env.REDIS_URL, prefix: 'myapp:', isGlobal: true })
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ...STORAGE_PROVIDERS,
    {
      provide: KeySpace,
      inject: [REDIS_CACHE_OPTIONS],
      useFactory: (options: RedisCacheModuleOptions) => keySpaceFor(options),
    },
    CacheCounters,
    CacheEvents,
    RedisGateway,
    FailSafe,
    CacheRegistry,
    InvalidationBus,
    L1Tier,
    OutboxRelay,
    Invalidator,
    TieredCache,
    FleetLeases,
    WindowCounters,
    NamedTier,
    NamedLocations,
    NamedValues,
    NamedWrap,
    NamedCaches,
    RequestContext,
    { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
    DecoratedMethods,
    CacheLookup,
    PlatformHost,
    RedisCacheService,
    RedisCacheHealthIndicator,
    CacheInterceptor,
    InvalidateCacheInterceptor,
  ],
  exports: [
    RedisCacheService,
    RedisCacheHealthIndicator,
    CacheInterceptor,
    InvalidateCacheInterceptor,
    ...INTERCEPTOR_DEPENDENCIES,
    REDIS_CACHE_OPTIONS,
  ],
})
export class RedisCacheModule extends ConfigurableModuleClass implements OnModuleInit {
  constructor(
    private readonly registry: CacheRegistry,
    private readonly invalidator: Invalidator,
    private readonly relay: OutboxRelay,
    private readonly topology: RedisTopology,
    private readonly keys: KeySpace,
    private readonly lookups: CacheLookup,
    private readonly platforms: PlatformHost,
    private readonly methods: DecoratedMethods,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
  ) {
    super();
  }

  onModuleInit(): void {
    this.invalidator.generationTtlMs = Math.max(MIN_GENERATION_TTL_MS, 2 * this.registry.longestTtlMs);
    this.relay.generationTtlMs = this.invalidator.generationTtlMs;
    // A new master may have lost bumps the old one acknowledged: every entry is suspect until the root moves on.
    this.topology.onMaster((changed) => changed && this.invalidator.distrust([this.keys.rootGeneration]));
    this.methods.install();
    const platform = this.platforms.current;
    if (!platform) return;
    if (this.options.fastHits && platform.kind !== 'fastify')
      throw new UnsupportedPlatformError(
        `RedisCacheModule option fastHits needs Fastify; this application runs on ${platform.kind}. ` +
          'Remove fastHits (every other feature works the same on Express)',
      );
    if (platform.kind !== 'fastify') return;
    const fastify = this.platforms.instance<FastifyInstanceLike>()!;
    registerConditionalGet(fastify);
    // Disabled means pass-through: no lookup at all, not even the fast path's.
    if (this.options.fastHits && this.options.enabled !== false)
      registerFastHits(fastify, platform, this.registry, this.lookups);
  }
}
