import { Inject, Logger, Module, OnApplicationShutdown, OnModuleInit, type Provider } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { REDIS_CACHE_CLIENT } from './redis-cache.constants.js';
import { ConfigurableModuleClass, REDIS_CACHE_OPTIONS } from './redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from './redis-cache.types.js';
import { CacheInterceptor } from './decorators/cache.interceptor.js';
import { CacheLookup } from './tiers/cache-lookup.js';
import { CacheRegistry } from './decorators/cache-registry.js';
import { CacheService } from './redis-cache.service.js';
import { CacheStore, MIN_GENERATION_TTL_MS } from './storage/cache-store.js';
import { registerConditionalGet } from './platform/conditional-get.hook.js';
import { registerFastHits } from './platform/fast-hit.hook.js';
import { FailureLog } from './resilience/failure-log.js';
import { InvalidateCacheInterceptor } from './decorators/invalidate-cache.interceptor.js';
import { InvalidationBus } from './invalidation/invalidation-bus.js';
import { L1Tier } from './tiers/l1-tier.js';
import { KeySpace } from './keys/key-space.js';
import { createRedisClient, type RedisClient } from './storage/redis-client.factory.js';

const clientProvider: Provider = {
  provide: REDIS_CACHE_CLIENT,
  inject: [REDIS_CACHE_OPTIONS],
  useFactory: (options: RedisCacheModuleOptions): RedisClient | undefined => {
    if (!options.url) return undefined;
    const client = createRedisClient(options.url, { tlsCaFile: options.tlsCaFile });
    // Without an 'error' listener a dying connection crashes the process; with one, an outage is one log line.
    const failures = new FailureLog(new Logger('RedisCache'));
    client.on('error', (error: Error) => failures.report('connection', `Redis connection: ${error.message}`));
    // Started, never awaited: the app serves (uncached) while Redis is absent, and the client keeps reconnecting.
    client
      .connect()
      .catch((error: Error) => failures.report('connection', `Redis connection: ${error.message}`));
    return client;
  },
};

/**
 * The cache: `@Cached` and `@InvalidatesCache` on any controller, backed by Redis through cache-manager and Keyv,
 * or by process memory when no URL is configured. Imports nothing from the application.
 *
 * @example
 * ```ts
 * RedisCacheModule.forRoot({ url: process.env.REDIS_URL, prefix: 'jobboard:', isGlobal: true })
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    clientProvider,
    {
      provide: KeySpace,
      inject: [REDIS_CACHE_OPTIONS],
      useFactory: (options: RedisCacheModuleOptions) =>
        new KeySpace(options.prefix.endsWith(':') ? options.prefix : `${options.prefix}:`),
    },
    CacheRegistry,
    InvalidationBus,
    L1Tier,
    CacheStore,
    CacheLookup,
    CacheService,
    CacheInterceptor,
    InvalidateCacheInterceptor,
  ],
  exports: [
    CacheService,
    CacheInterceptor,
    InvalidateCacheInterceptor,
    CacheRegistry,
    CacheStore,
    CacheLookup,
    InvalidationBus,
    L1Tier,
    KeySpace,
    REDIS_CACHE_CLIENT,
    // @UseInterceptors(CacheInterceptor) instantiates the interceptor in the controller's module.
    REDIS_CACHE_OPTIONS,
  ],
})
export class RedisCacheModule extends ConfigurableModuleClass implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: CacheRegistry,
    private readonly store: CacheStore,
    private readonly lookups: CacheLookup,
    @Inject(REDIS_CACHE_CLIENT) private readonly client: RedisClient | undefined,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
  ) {
    super();
  }

  onModuleInit(): void {
    this.store.generationTtlMs = Math.max(MIN_GENERATION_TTL_MS, 2 * this.registry.longestTtlMs);
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    registerConditionalGet(fastify);
    // Disabled means pass-through: no lookup at all, not even the fast path's (the bench's peers rely on it).
    if (this.options.fastHits && this.options.enabled !== false)
      registerFastHits(fastify, this.registry, this.lookups);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client?.isOpen) this.client.destroy();
  }
}
