export { Cached, InvalidatesCache } from './cached.decorator.js';
export { CacheService } from './cache.service.js';
export { RedisCacheModule } from './redis-cache.module.js';
export { CacheStore } from './cache-store.js';
export { CacheConfigurationError } from './cache-registry.js';
export type { CachedOptions, RedisCacheModuleOptions } from './cache.types.js';
export type { Ttl } from './ttl.util.js';
export { X_CACHE_HEADER } from './cache.constants.js';
