import { Inject, Injectable, OnModuleInit, type PipeTransform, type Type } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, ModuleRef, Reflector } from '@nestjs/core';
import { CACHED_METADATA, INVALIDATES_METADATA } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type {
  CachedMetadata,
  CacheRequest,
  InvalidatesMetadata,
  RedisCacheModuleOptions,
} from '../redis-cache.types.js';
import type { ParsedPattern } from '../keys/cache-key.util.js';
import {
  validateArguments,
  type ArgumentSlot,
  type HandlerRef,
  type ValidatedArguments,
} from './argument-pipes.js';
import { DtoFieldReader } from './dto-fields.js';
import { CacheConfigurationError } from '../errors.js';
import { compressAboveOf } from '../platform/content-encoding.js';
import { failSafePolicy, NO_FAIL_SAFE, type FailSafePolicy } from '../resilience/fail-safe.js';
import { planCached, planInvalidation, type CachedPlan, type InvalidatePlan } from './handler-plans.js';
import {
  planMethodCache,
  planMethodInvalidation,
  type MethodCachePlan,
  type MethodInvalidatePlan,
  type MethodRef,
} from './method-plans.js';

/** A route handler, identified by the function object ExecutionContext.getHandler() returns. */
type Handler = object;

/** What DiscoveryService hands out for a controller: its class, its instance, and the module that declares it. */
interface ControllerWrapper {
  metatype: unknown;
  instance: unknown;
  host?: { injectables: Map<unknown, { instance: unknown }> };
}

/** What DiscoveryService hands out for a provider. */
interface ProviderWrapper {
  metatype: unknown;
  instance: unknown;
  isDependencyTreeStatic(): boolean;
}

/**
 * Finds every handler decorated with @Cached or @InvalidatesCache when the application starts, checks TTLs and key
 * patterns (an error names the handler), and works out which invalidation prefixes cover which keys. A pattern or
 * TTL that is wrong fails start-up rather than the first request.
 */
@Injectable()
export class CacheRegistry implements OnModuleInit {
  /** Every invalidation prefix declared by any handler; readers include the generation counters of those covering them. */
  readonly prefixes: ParsedPattern[] = [];
  longestTtlMs = 0;
  /** @Cached and @InvalidatesCache on provider methods, for DecoratedMethods to install. */
  readonly methodCaches: MethodCachePlan[] = [];
  readonly methodInvalidations: MethodInvalidatePlan[] = [];
  private readonly tenantResolver: boolean;
  /** The module's fail-safe defaults, which every plan starts from. */
  readonly failSafe: FailSafePolicy;
  /** Route responses larger than this many bytes are stored compressed; false: never. */
  readonly compressAbove: number | false;
  private readonly cached = new Map<Handler, CachedPlan>();
  private readonly invalidating = new Map<Handler, InvalidatePlan>();
  /** Unguarded cached routes by the platform's route identity, learnt from the requests Nest routed to them. */
  private readonly routes = new WeakMap<object, CachedPlan>();
  private readonly override: PipeTransform | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly config: ApplicationConfig,
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
  ) {
    this.override = options.argumentPipe;
    this.tenantResolver = options.tenantResolver !== undefined;
    this.failSafe = failSafePolicy(options.failSafe, NO_FAIL_SAFE, 'RedisCacheModule option failSafe');
    this.compressAbove = compressAboveOf(options.compressAbove);
  }

  async onModuleInit(): Promise<void> {
    const fields = new DtoFieldReader();
    await fields.load();
    const handlers = (this.discovery.getControllers() as ControllerWrapper[]).flatMap((wrapper) =>
      this.handlersOf(wrapper),
    );
    const cachedHandlers: (HandlerRef & { cached: CachedMetadata })[] = [];
    for (const entry of handlers) {
      const invalidates = this.reflector.get<InvalidatesMetadata | undefined>(
        INVALIDATES_METADATA,
        entry.handler,
      );
      if (invalidates) this.invalidating.set(entry.handler, planInvalidation(entry, invalidates, { fields }));
      const cached = this.reflector.get<CachedMetadata | undefined>(CACHED_METADATA, entry.handler);
      if (cached) cachedHandlers.push({ ...entry, cached });
    }
    for (const plan of this.invalidating.values()) this.prefixes.push(...plan.prefixes);
    const methods = this.providerMethods();
    for (const { ref, invalidates } of methods) {
      if (!invalidates) continue;
      const plan = planMethodInvalidation(ref, invalidates, this.tenantResolver);
      this.methodInvalidations.push(plan);
      this.prefixes.push(...plan.prefixes);
    }
    for (const { ref, cached } of methods) {
      if (!cached) continue;
      const context = {
        prefixes: this.prefixes,
        tenantResolver: this.tenantResolver,
        failSafe: this.failSafe,
      };
      const plan = planMethodCache(ref, cached, context);
      this.methodCaches.push(plan);
      this.longestTtlMs = Math.max(this.longestTtlMs, plan.ttlMs + plan.failSafe.graceMs);
    }
    let id = 0;
    const context = {
      reflector: this.reflector,
      fields,
      prefixes: this.prefixes,
      nextId: () => ++id,
      failSafe: this.failSafe,
      compressAbove: this.compressAbove,
    };
    for (const entry of cachedHandlers) {
      const plan = planCached(entry, entry.cached, context);
      this.cached.set(entry.handler, plan);
      this.longestTtlMs = Math.max(this.longestTtlMs, plan.ttlMs + plan.failSafe.graceMs);
    }
  }

  get hasCachedRoutes(): boolean {
    return this.cached.size > 0;
  }

  cachedPlan(handler: Handler): CachedPlan | undefined {
    return this.cached.get(handler);
  }

  invalidatePlan(handler: Handler): InvalidatePlan | undefined {
    return this.invalidating.get(handler);
  }

  /** Records which plan a platform route serves, once Nest has routed a request there (for the fast-hit path). */
  learnRoute(route: object | undefined, plan: CachedPlan): void {
    if (route && !plan.guarded && !this.routes.has(route)) this.routes.set(route, plan);
  }

  /** The plan of an unguarded cached route, by the platform's route identity, once learnt. */
  unguardedPlan(route: object | undefined): CachedPlan | undefined {
    return route === undefined ? undefined : this.routes.get(route);
  }

  /** Whether a rendered prefix has the shape of a declared one (so readers include its generation counter). */
  isKnownPrefix(segments: string[]): boolean {
    return this.prefixes.some(
      (prefix) =>
        prefix.segments.length === segments.length &&
        prefix.segments.every((s, i) => s.kind === 'placeholder' || s.value === segments[i]),
    );
  }

  /** Params, query and body of `request` through the pipes the handler will run (see validateArguments). */
  validate(slots: readonly ArgumentSlot[], request: CacheRequest): Promise<ValidatedArguments> {
    return validateArguments(slots, request, this.config, this.override);
  }

  private handlersOf({ metatype, instance, host }: ControllerWrapper): HandlerRef[] {
    if (typeof metatype !== 'function' || !instance) return [];
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    const resolvePipe = (pipe: Type<PipeTransform>): PipeTransform =>
      (host?.injectables.get(pipe)?.instance as PipeTransform | undefined) ?? this.pipeFromContainer(pipe);
    return Object.getOwnPropertyNames(prototype).flatMap((name) => {
      const handler = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
      if (name === 'constructor' || typeof handler !== 'function') return [];
      return [{ controller: metatype as Type, handler: handler as Type, name, resolvePipe }];
    });
  }

  /** Methods of singleton providers that carry either decorator. */
  private providerMethods() {
    const found: { ref: MethodRef; cached?: CachedMetadata; invalidates?: InvalidatesMetadata }[] = [];
    for (const wrapper of this.discovery.getProviders() as ProviderWrapper[]) {
      const { metatype, instance } = wrapper;
      if (typeof metatype !== 'function' || !instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      if (prototype === Object.prototype) continue;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        // The descriptor, not prototype[name]: reading an accessor would run it (HttpAdapterHost's listen$ throws).
        const method = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
        if (name === 'constructor' || typeof method !== 'function') continue;
        const cached = this.reflector.get<CachedMetadata | undefined>(CACHED_METADATA, method);
        const invalidates = this.reflector.get<InvalidatesMetadata | undefined>(INVALIDATES_METADATA, method);
        if (!cached && !invalidates) continue;
        const handlerName = `${(metatype as Type).name}.${name}`;
        if (!wrapper.isDependencyTreeStatic())
          throw new CacheConfigurationError(
            `@Cached/@InvalidatesCache on ${handlerName}: the provider is request-scoped (or depends on one); ` +
              'decorate a method of a singleton provider',
          );
        const ref = { provider: metatype as Type, instance: instance as Record<string, unknown>, name };
        found.push({ ref, cached, invalidates });
      }
    }
    return found;
  }

  private pipeFromContainer(pipe: Type<PipeTransform>): PipeTransform {
    try {
      return this.moduleRef.get(pipe, { strict: false });
    } catch {
      return new pipe();
    }
  }
}
