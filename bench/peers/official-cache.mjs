// Benchmark-only entry point: the job board exactly as `npm start` runs it (dist/), plus the official
// @nestjs/cache-manager CacheInterceptor on every GET route with a Keyv/@keyv/redis store, as its documentation sets
// it up. `npm run bench` starts it with CACHE_ENABLED=false (our decorators pass through) as the peer it compares
// with. Its packages are development dependencies of the repository, never of the product.
import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CacheInterceptor, CacheModule } from '@nestjs/cache-manager';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import { bootstrap } from '../../dist/bootstrap.js';

const TTL_MS = 120_000;

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
      providers: [{ provide: APP_INTERCEPTOR, useClass: CacheInterceptor }],
    },
  ];
});
