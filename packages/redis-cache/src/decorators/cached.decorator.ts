import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CACHED_METADATA, INVALIDATES_METADATA } from '../redis-cache.constants.js';
import type { CachedMetadata, CachedOptions, InvalidatesMetadata } from '../redis-cache.types.js';
import { CacheInterceptor } from './cache.interceptor.js';
import { InvalidateCacheInterceptor } from './invalidate-cache.interceptor.js';
import type { Ttl } from '../keys/ttl.util.js';

/**
 * Caches a GET handler's successful response for `ttl` (seconds, or `'30s'`, `'2m'`, `'1h'`) under `keyPattern`.
 * Placeholders: `{name}` from route params then the validated query; `{user.id}` (alias `{user_id}`) the viewer;
 * `{tenant}` the tenant. Every route param and query field must appear in the pattern, and a route behind an auth
 * guard must key on `{user.id}` or declare `{ scope: 'public' }`; start-up fails otherwise.
 *
 * @example
 * ```ts
 * @Get()
 * @Cached('2m', 'jobs:list:{skip}:{limit}:{search}:{location}:{category}:{type}:{status}')
 * list(@Query() query: ListJobsQuery) { return this.jobs.list(query); }
 * ```
 */
export function Cached(ttl: Ttl, keyPattern: string, options: CachedOptions = {}): MethodDecorator {
  return applyDecorators(
    SetMetadata<string, CachedMetadata>(CACHED_METADATA, { ttl, pattern: keyPattern, options }),
    UseInterceptors(CacheInterceptor),
  );
}

/**
 * After the handler succeeds, and before the response is sent, invalidates every cached entry whose key starts with
 * one of `prefixes` (whole segments: `'jobs:item:{id}'` covers `jobs:item:4` but not `jobs:item:42`). Prefixes may
 * use the placeholders of @Cached plus `{body.<field>}` and `{result.<field>}` (the handler's return value).
 *
 * @example
 * ```ts
 * @Patch(':id')
 * @InvalidatesCache('jobs:list:', 'jobs:stats:', 'jobs:item:{id}')
 * update(@Param() { id }: IdParams, @Body() dto: UpdateJobDto) { ... }
 * ```
 */
export function InvalidatesCache(...prefixes: string[]): MethodDecorator {
  return applyDecorators(
    SetMetadata<string, InvalidatesMetadata>(INVALIDATES_METADATA, { prefixes }),
    UseInterceptors(InvalidateCacheInterceptor),
  );
}
