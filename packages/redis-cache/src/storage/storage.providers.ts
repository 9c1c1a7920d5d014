import { Logger, type Provider } from '@nestjs/common';
import {
  DEFAULT_L1_MAX_BYTES,
  DEFAULT_L1_MAX_ENTRIES,
  REDIS_CACHE_CLIENT,
} from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import {
  GENERATION_COUNTERS,
  MemoryGenerationCounters,
  RedisGenerationCounters,
  type GenerationCounters,
} from '../invalidation/generation-counters.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import { CacheCounters } from '../observability/cache-counters.js';
import { FailureLog } from '../resilience/failure-log.js';
import { RedisGateway } from '../resilience/redis-gateway.js';
import { ENTRY_STORE, type EntryStore } from './entry-store.js';
import { MemoryEntryStore } from './memory-entry-store.js';
import { createRedisClient, type RedisClient } from './redis-client.factory.js';
import { RedisEntryStore } from './redis-entry-store.js';

/** The node-redis client, built to fail fast (RELIABILITY.md §1); undefined without a URL (memory only). */
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

const generationCountersProvider: Provider = {
  provide: GENERATION_COUNTERS,
  inject: [REDIS_CACHE_CLIENT, InvalidationBus],
  useFactory: (client: RedisClient | undefined, bus: InvalidationBus): GenerationCounters =>
    client
      ? new RedisGenerationCounters(client, (keys) => [bus.channel, bus.generationsMessage(keys)])
      : new MemoryGenerationCounters(),
};

const entryStoreProvider: Provider = {
  provide: ENTRY_STORE,
  inject: [
    REDIS_CACHE_OPTIONS,
    REDIS_CACHE_CLIENT,
    GENERATION_COUNTERS,
    RedisGateway,
    CacheCounters,
    InvalidationBus,
  ],
  useFactory: (
    options: RedisCacheModuleOptions,
    client: RedisClient | undefined,
    generations: GenerationCounters,
    gateway: RedisGateway,
    counters: CacheCounters,
  ): EntryStore => {
    if (!client)
      return new MemoryEntryStore(generations, {
        maxEntries: options.l1?.maxEntries ?? DEFAULT_L1_MAX_ENTRIES,
        maxBytes: options.l1?.maxBytes ?? DEFAULT_L1_MAX_BYTES,
      });
    return new RedisEntryStore(client, (error) => {
      counters.countTotal('l2Errors');
      gateway.report('entry store', error);
    });
  },
};

/** The Redis client and the two stores that sit on it (or on memory): one place decides which. */
export const STORAGE_PROVIDERS: Provider[] = [clientProvider, generationCountersProvider, entryStoreProvider];
