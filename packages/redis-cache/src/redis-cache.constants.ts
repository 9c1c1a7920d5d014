/** Metadata keys, namespaced so they cannot clash with other libraries' metadata. */
export const CACHED_METADATA = 'redis_cache:cached';
export const INVALIDATES_METADATA = 'redis_cache:invalidates';

/** DI token of the node-redis client the module builds (undefined when the cache is memory-only). */
export const REDIS_CACHE_CLIENT = Symbol('redis_cache:client');

/** Response header telling whether the response came from the cache. */
export const X_CACHE_HEADER = 'x-cache';

/** Defaults of the module options, in one place. */
export const DEFAULT_OP_TIMEOUT_MS = 150;
export const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;
export const DEFAULT_L1_MAX_ENTRIES = 10_000;
export const DEFAULT_L1_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_L1_TTL_MS = 5_000;
