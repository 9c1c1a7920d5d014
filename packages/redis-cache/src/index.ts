// The public API of @jobboard/redis-cache: nothing else is importable (package.json `exports`).
export type { WindowCount } from './counters/window-counters.js';
export { Cached, InvalidatesCache } from './decorators/cached.decorator.js';
export {
  CacheConfigurationError,
  CacheTimeoutError,
  InvalidKeyPatternError,
  InvalidTtlError,
  RedisCacheError,
  UnsupportedPlatformError,
  type RedisCacheErrorCode,
} from './errors.js';
export { runAfterCommit, type DeferredInvalidations } from './invalidation/after-commit.js';
export type { Ttl } from './keys/ttl.util.js';
export type {
  NamedCache,
  NamedCallOptions,
  NamedSetOptions,
  NamespaceOptions,
} from './named/named-cache.types.js';
export { jsonCodec, structuredCodec, type CacheCodec } from './named/value-codec.js';
export type { CacheTotals, NamedCounters, PrefixCounters } from './observability/cache-counters.js';
export {
  RedisCacheHealthIndicator,
  type CacheIndicatorResult,
  type CachePingCheckOptions,
} from './observability/redis-cache.health.js';
export { X_CACHE_HEADER } from './redis-cache.constants.js';
export { RedisCacheModule } from './redis-cache.module.js';
export { RedisCacheService } from './redis-cache.service.js';
export type {
  CacheBackend,
  CachedOptions,
  ViewerScope,
  CacheHealth,
  CacheRequest,
  CacheStats,
  CacheStatus,
  CircuitState,
  FailSafeOptions,
  InvalidationOutbox,
  L2Outcome,
  OutboxRecord,
  OutboxStats,
  RedisCacheEvents,
  RedisCacheModuleOptions,
  RedisState,
  RedisTopologyKind,
  SentinelConnectionOptions,
  ClusterConnectionOptions,
  StaleReason,
} from './redis-cache.types.js';
