import { Inject, Injectable } from '@nestjs/common';
import { CacheRegistry } from '../decorators/cache-registry.js';
import type { MethodCachePlan, MethodInvalidatePlan } from '../decorators/method-plans.js';
import { Invalidator } from '../invalidation/invalidator.js';
import { valueAt } from '../keys/cache-context.js';
import { joinKey, renderSegments, type ParsedPattern } from '../keys/cache-key.util.js';
import { KeySpace } from '../keys/key-space.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { NamedCaches } from './named-caches.js';
import { RequestContext } from './request-context.js';

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * Makes @Cached and @InvalidatesCache work on provider methods (ARCHITECTURE.md §9.3): replaces each decorated
 * method on its (singleton) instance with one that caches the resolved value under the method's namespace, or
 * invalidates after the promise resolved. Keys render from arguments by position and path, and `{tenant}`; a cached
 * method's values are also covered by the @InvalidatesCache prefixes declared anywhere, routes included.
 */
@Injectable()
export class DecoratedMethods {
  constructor(
    private readonly registry: CacheRegistry,
    private readonly named: NamedCaches,
    private readonly invalidator: Invalidator,
    private readonly keys: KeySpace,
    private readonly context: RequestContext,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: RedisCacheModuleOptions,
  ) {}

  /** Called once by the module, after every provider was created and the registry planned them. */
  install(): void {
    if (this.options.enabled === false) return;
    // Invalidation wraps first, so that a method with both decorators invalidates around its cached value.
    for (const plan of this.registry.methodInvalidations) this.wrapInvalidation(plan);
    for (const plan of this.registry.methodCaches) this.wrapCache(plan);
  }

  private tenant(): string | undefined {
    const request = this.context.request;
    return request && this.options.tenantResolver?.(request);
  }

  private wrapCache(plan: MethodCachePlan): void {
    const { instance, name } = plan.ref;
    const original = instance[name] as Method;
    const config = this.named.locations.configure(plan.namespace, { ttl: `${plan.ttlMs}ms` }, plan.failSafe);
    const call = { ttlMs: plan.ttlMs, policy: plan.failSafe };
    const locate = (args: unknown[]) => {
      const tenant = this.tenant();
      const segments = render(plan.pattern, args, undefined, tenant);
      const covering = plan.coveringLengths.map((length) =>
        this.keys.generation(tenant, segments.slice(0, length)),
      );
      return this.named.locations.location(config, joinKey(segments), tenant, covering);
    };
    const wrap = this.named.wrap.bind(this.named);
    // A function, not an arrow: the method keeps the `this` it is called with.
    instance[name] = async function cached(this: unknown, ...args: unknown[]) {
      return wrap(config, locate(args), () => original.apply(this, args), call);
    };
  }

  private wrapInvalidation(plan: MethodInvalidatePlan): void {
    const { instance, name } = plan.ref;
    const original = instance[name] as Method;
    const invalidate = async (args: unknown[], result: unknown) => {
      const tenant = this.tenant();
      const keys = plan.prefixes.map((prefix) =>
        this.keys.generation(tenant, render(prefix, args, result, tenant)),
      );
      await this.invalidator.invalidate([...new Set(keys)]);
    };
    instance[name] = async function invalidating(this: unknown, ...args: unknown[]) {
      const result = await original.apply(this, args);
      await invalidate(args, result);
      return result;
    };
  }
}

/** A provider method's pattern rendered from its arguments (`{0}`, `{1.id}`), result and tenant. */
function render(
  pattern: ParsedPattern,
  args: unknown[],
  result: unknown,
  tenant: string | undefined,
): string[] {
  return renderSegments(pattern, (name) => {
    if (name === 'tenant') return tenant;
    if (name.startsWith('result.')) return valueAt(result, name.slice(7));
    const [index, ...path] = name.split('.');
    const arg = args[Number(index)];
    return path.length === 0 ? arg : valueAt(arg, path.join('.'));
  });
}
