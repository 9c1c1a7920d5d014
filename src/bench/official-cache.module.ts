import { Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';

@Module({})
class OfficialCacheBenchModule {}

/**
 * Benchmark-only (CACHE_BENCH_MODE=official): the official @nestjs/cache-manager CacheInterceptor on every GET
 * route, with a Keyv/@keyv/redis store, as its documentation sets it up: the peer `npm run bench` compares
 * RedisCacheModule with. Never used otherwise; its package is a development dependency, loaded on demand.
 */
export async function officialCacheBenchModule(redisUrl: string, ttlMs: number): Promise<DynamicModule> {
  const { CacheModule, CacheInterceptor } = await import('@nestjs/cache-manager');
  const { Keyv } = await import('keyv');
  const { default: KeyvRedis } = await import('@keyv/redis');
  return {
    module: OfficialCacheBenchModule,
    imports: [
      CacheModule.register({
        stores: [new Keyv({ store: new KeyvRedis(redisUrl), namespace: 'official' })],
        ttl: ttlMs,
      }),
    ],
    providers: [{ provide: APP_INTERCEPTOR, useClass: CacheInterceptor }],
  };
}
