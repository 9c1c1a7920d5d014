import { Module } from '@nestjs/common';
import { RedisCacheModule } from '@jobboard/redis-cache';
import { BooksController } from './books.controller.js';
import { BooksStore } from './books.store.js';

export interface AppOptions {
  /** `redis://...`; unset, the cache keeps entries in process memory. */
  redisUrl?: string;
  cachePrefix?: string;
}

@Module({})
export class AppModule {
  static forRoot({ redisUrl, cachePrefix = 'books-example:' }: AppOptions = {}) {
    return {
      module: AppModule,
      imports: [RedisCacheModule.forRoot({ url: redisUrl, prefix: cachePrefix, isGlobal: true })],
      controllers: [BooksController],
      providers: [BooksStore],
    };
  }
}
