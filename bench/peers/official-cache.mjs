// Benchmark-only entry point: the job board exactly as `npm start` runs it (dist/), plus the official
// @nestjs/cache-manager CacheInterceptor on every GET route with a Keyv/@keyv/redis store, as its documentation sets
// it up. `npm run bench` and `npm run bench:day` start it with CACHE_ENABLED=false (our decorators pass through) as
// the peer they compare with. Its packages are development dependencies of the repository, never of the product.
//
// The interceptor keys by URL alone, so a route whose answer depends on the viewer (the posts feed, users lists
// and profiles: `isFollowing`) would hand one viewer's answer to another. Its documentation's remedy is to not cache
// such routes (or override trackBy); here trackBy returns undefined for them, so they stay uncached.
import { Injectable, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CacheInterceptor, CacheModule } from '@nestjs/cache-manager';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import { bootstrap } from '../../dist/bootstrap.js';

const TTL_MS = 120_000;
const PER_VIEWER = /^\/api\/(posts(\?|$)|users\/)/;

class PublicRoutesCacheInterceptor extends CacheInterceptor {
  trackBy(context) {
    const { url } = context.switchToHttp().getRequest();
    return PER_VIEWER.test(url) ? undefined : super.trackBy(context);
  }
}
Injectable()(PublicRoutesCacheInterceptor);

class OfficialCacheBenchModule {}
Module({})(OfficialCacheBenchModule);

await bootstrap((config) => {
  if (!config.redis.url) throw new Error('the official peer needs REDIS_URL');
  return [
    {
      module: OfficialCacheBenchModule,
      imports: [
        CacheModule.register({
          stores: [new Keyv({ store: new KeyvRedis(config.redis.url), namespace: 'official' })],
          ttl: TTL_MS,
        }),
      ],
      providers: [{ provide: APP_INTERCEPTOR, useClass: PublicRoutesCacheInterceptor }],
    },
  ];
});
