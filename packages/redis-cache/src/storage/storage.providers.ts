import type { Provider } from '@nestjs/common';
import {
  DEFAULT_L1_MAX_BYTES,
  DEFAULT_L1_MAX_ENTRIES,
  DEFAULT_OP_TIMEOUT_MS,
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
import { RedisGateway } from '../resilience/redis-gateway.js';
import { ENTRY_STORE, type EntryStore } from './entry-store.js';
import { MemoryEntryStore } from './memory-entry-store.js';
import type { RedisClient } from './redis-client.factory.js';
import { RedisEntryStore } from './redis-entry-store.js';
import { RedisTopology } from './redis-topology.js';

/** The Redis the options name (one server or Sentinel), connecting in the background; memory without one. */
const topologyProvider: Provider = {
  provide: RedisTopology,
  inject: [REDIS_CACHE_OPTIONS],
  useFactory: (options: RedisCacheModuleOptions) => RedisTopology.create(options),
};

/** The node-redis client, built to fail fast (RELIABILITY.md §1); undefined without Redis (memory only). */
const clientProvider: Provider = {
  provide: REDIS_CACHE_CLIENT,
  inject: [RedisTopology],
  useFactory: (topology: RedisTopology): RedisClient | undefined => topology.client,
};

const generationCountersProvider: Provider = {
  provide: GENERATION_COUNTERS,
  inject: [REDIS_CACHE_CLIENT, InvalidationBus, RedisTopology, REDIS_CACHE_OPTIONS],
  useFactory: (
    client: RedisClient | undefined,
    bus: InvalidationBus,
    topology: RedisTopology,
    options: RedisCacheModuleOptions,
  ): GenerationCounters =>
    client
      ? new RedisGenerationCounters(
          topology.writer ?? client,
          (keys) => [bus.channel, bus.generationsMessage(keys)],
          {
            replicas: () => topology.durableReplicas,
            required: () => topology.requiredAcks,
            timeoutMs: options.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS,
          },
          topology.kind === 'cluster'
            ? { toCounterMaster: (args) => topology.toCounterMaster(args) }
            : undefined,
        )
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
    RedisTopology,
  ],
  useFactory: (
    options: RedisCacheModuleOptions,
    client: RedisClient | undefined,
    generations: GenerationCounters,
    gateway: RedisGateway,
    counters: CacheCounters,
    _bus: InvalidationBus,
    topology: RedisTopology,
  ): EntryStore => {
    if (!client)
      return new MemoryEntryStore(generations, {
        maxEntries: options.l1?.maxEntries ?? DEFAULT_L1_MAX_ENTRIES,
        maxBytes: options.l1?.maxBytes ?? DEFAULT_L1_MAX_BYTES,
      });
    return new RedisEntryStore(
      client,
      (error) => {
        counters.countTotal('l2Errors');
        gateway.report('entry store', error);
      },
      topology.cluster,
    );
  },
};

/** The Redis client and the two stores that sit on it (or on memory): one place decides which. */
export const STORAGE_PROVIDERS: Provider[] = [
  topologyProvider,
  clientProvider,
  generationCountersProvider,
  entryStoreProvider,
];
