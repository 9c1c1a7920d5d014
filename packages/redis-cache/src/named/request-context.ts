import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Observable } from 'rxjs';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { CacheRequest, RedisCacheModuleOptions } from '../redis-cache.types.js';

/** The request a provider method runs for, so that its `{tenant}` comes from the module's tenant resolver. */
@Injectable()
export class RequestContext {
  private readonly storage = new AsyncLocalStorage<CacheRequest>();

  run<T>(request: CacheRequest, work: () => T): T {
    return this.storage.run(request, work);
  }

  get request(): CacheRequest | undefined {
    return this.storage.getStore();
  }
}

/**
 * Registered app-wide by the module; with a tenant resolver configured, runs each HTTP handler (and everything it
 * awaits) inside {@link RequestContext}, after guards (which decide the viewer a resolver may read). Without one it
 * passes through.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  constructor(
    private readonly context: RequestContext,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
  ) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.options.tenantResolver || execution.getType() !== 'http') return next.handle();
    const request = execution.switchToHttp().getRequest<CacheRequest>();
    return new Observable((subscriber) =>
      this.context.run(request, () => next.handle().subscribe(subscriber)),
    );
  }
}
