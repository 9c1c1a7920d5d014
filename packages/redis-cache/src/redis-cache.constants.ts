/** Metadata keys, namespaced so they cannot clash with other libraries' metadata. */
export const CACHED_METADATA = 'redis_cache:cached';
export const INVALIDATES_METADATA = 'redis_cache:invalidates';

/** DI token of the node-redis client the module builds (undefined when the cache is memory-only). */
export const REDIS_CACHE_CLIENT = Symbol('redis_cache:client');

/** Response header telling whether the response came from the cache. */
export const X_CACHE_HEADER = 'x-cache';
