import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { mergeMap, Observable } from 'rxjs';
import { Invalidator } from '../invalidation/invalidator.js';
import { resolvePlaceholder, tenantOf, viewerOf } from '../keys/cache-context.js';
import { renderSegments } from '../keys/cache-key.util.js';
import { KeySpace } from '../keys/key-space.js';
import type { PlatformRequest } from '../platform/http-platform.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { CacheRegistry } from './cache-registry.js';

/**
 * The write side: once the handler has succeeded, bumps the generation of every prefix it declares and waits for
 * that before the response leaves (mergeMap, not tap), so the next read anywhere cannot see the old entry. A
 * handler that throws invalidates nothing.
 */
@Injectable()
export class InvalidateCacheInterceptor implements NestInterceptor {
  constructor(
    private readonly registry: CacheRegistry,
    private readonly invalidator: Invalidator,
    private readonly keys: KeySpace,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const plan = this.registry.invalidatePlan(context.getHandler());
    if (!plan || this.options.enabled === false) return next.handle();
    const request = context.switchToHttp().getRequest<PlatformRequest>();
    const validated = await this.registry.validate(plan.slots, request);
    const tenant = tenantOf(request, this.options);
    return next.handle().pipe(
      mergeMap(async (result: unknown) => {
        const sources = { ...validated, viewerId: viewerOf(request), tenant, result };
        const generationKeys = plan.prefixes.map((prefix) =>
          this.keys.generation(
            tenant,
            renderSegments(prefix, (name) => resolvePlaceholder(name, sources)),
          ),
        );
        await this.invalidator.invalidate([...new Set(generationKeys)]);
        return result;
      }),
    );
  }
}
