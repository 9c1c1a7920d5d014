import {
  Inject,
  Injectable,
  OnModuleInit,
  ValidationPipe,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { getMetadataStorage } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { CACHED_METADATA, INVALIDATES_METADATA } from '../redis-cache.constants.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { CachedMetadata, InvalidatesMetadata, RedisCacheModuleOptions } from '../redis-cache.types.js';
import { parseKeyPattern, prefixCanCover, type ParsedPattern } from '../keys/cache-key.util.js';
import { ttlToMs } from '../keys/ttl.util.js';

/** Placeholders that come from the request context rather than from params, query or body. */
const CONTEXT_PLACEHOLDERS = new Set(['user.id', 'tenant']);

/** An argument of a handler that the cache validates before it looks anything up. */
interface ArgumentSlot {
  type: 'param' | 'query' | 'body';
  data: string | undefined;
  metatype: Type | undefined;
}

export interface CachedPlan {
  handlerName: string;
  /** The route as Fastify knows it (`/api/jobs/:id`), for the fast hit path. */
  routePath: string;
  /** Behind a guard (declared on the handler or its controller): never answered before Nest's pipeline. */
  guarded: boolean;
  pattern: ParsedPattern;
  ttlMs: number;
  perViewer: boolean;
  /** Segment counts of the invalidation prefixes that can cover this key (the key's first n segments). */
  coveringLengths: number[];
  slots: ArgumentSlot[];
}

export interface InvalidatePlan {
  handlerName: string;
  prefixes: ParsedPattern[];
  slots: ArgumentSlot[];
}

export interface ValidatedArguments {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
}

export class CacheConfigurationError extends Error {}

/** A route handler, identified by the function object ExecutionContext.getHandler() returns. */
type Handler = object;

const SLOT_TYPES: Partial<Record<RouteParamtypes, ArgumentSlot['type']>> = {
  [RouteParamtypes.PARAM]: 'param',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.BODY]: 'body',
};

/**
 * Finds every handler decorated with @Cached or @InvalidatesCache when the application starts, validates TTLs and
 * key patterns (an error names the handler), and works out which invalidation prefixes cover which keys. A pattern
 * or TTL that is wrong fails start-up rather than the first request.
 */
@Injectable()
export class CacheRegistry implements OnModuleInit {
  private readonly cached = new Map<Handler, CachedPlan>();
  private readonly invalidating = new Map<Handler, InvalidatePlan>();
  /** Every invalidation prefix declared by any handler; readers include the generation counters of those covering them. */
  readonly prefixes: ParsedPattern[] = [];
  private readonly pipe: PipeTransform;
  private readonly unguardedRoutes = new Map<string, CachedPlan>();
  longestTtlMs = 0;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
  ) {
    this.pipe =
      options.argumentPipe ??
      new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });
  }

  onModuleInit(): void {
    const handlers = this.discovery.getControllers().flatMap(({ metatype, instance }) => {
      if (!metatype || !instance) return [];
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      return Object.getOwnPropertyNames(prototype)
        .filter((name) => name !== 'constructor' && typeof prototype[name] === 'function')
        .map((name) => ({ controller: metatype as Type, handler: prototype[name] as Type, name }));
    });
    const cachedHandlers = [];
    for (const entry of handlers) {
      const invalidates = this.reflector.get<InvalidatesMetadata | undefined>(
        INVALIDATES_METADATA,
        entry.handler,
      );
      if (invalidates) this.invalidating.set(entry.handler, this.planInvalidation(entry, invalidates));
      const cached = this.reflector.get<CachedMetadata | undefined>(CACHED_METADATA, entry.handler);
      if (cached) cachedHandlers.push({ ...entry, cached });
    }
    for (const plan of this.invalidating.values()) this.prefixes.push(...plan.prefixes);
    for (const entry of cachedHandlers) {
      const plan = this.planCached(entry, entry.cached);
      this.cached.set(entry.handler, plan);
      if (!plan.guarded) this.unguardedRoutes.set(plan.routePath, plan);
    }
  }

  /** The plan of an unguarded cached GET route, by Fastify route URL. */
  unguardedPlan(routeUrl: string | undefined): CachedPlan | undefined {
    return routeUrl === undefined ? undefined : this.unguardedRoutes.get(routeUrl);
  }

  cachedPlan(handler: Handler): CachedPlan | undefined {
    return this.cached.get(handler);
  }

  invalidatePlan(handler: Handler): InvalidatePlan | undefined {
    return this.invalidating.get(handler);
  }

  /** Whether a rendered prefix has the shape of a declared one (so readers include its generation counter). */
  isKnownPrefix(segments: string[]): boolean {
    return this.prefixes.some(
      (prefix) =>
        prefix.segments.length === segments.length &&
        prefix.segments.every((s, i) => s.kind === 'placeholder' || s.value === segments[i]),
    );
  }

  /**
   * Runs the module's argument pipe over the handler's params, query and body, exactly as the global pipe will:
   * the key is built from validated values with defaults applied, and an invalid request fails here with the same
   * 400 it would get from the handler.
   */
  async validate(slots: ArgumentSlot[], request: FastifyRequest): Promise<ValidatedArguments> {
    const result: ValidatedArguments = { params: {}, query: {}, body: {} };
    for (const slot of slots) {
      const source = (
        slot.type === 'param' ? request.params : slot.type === 'query' ? request.query : request.body
      ) as Record<string, unknown> | undefined;
      const raw = slot.data === undefined ? source : source?.[slot.data];
      const value: unknown = await this.pipe.transform(raw, {
        type: slot.type,
        metatype: slot.metatype,
        data: slot.data,
      });
      const target = result[slot.type === 'param' ? 'params' : slot.type];
      if (slot.data !== undefined) target[slot.data] = value;
      else if (value !== null && typeof value === 'object') Object.assign(target, value);
    }
    return result;
  }

  private planCached(entry: HandlerRef, metadata: CachedMetadata): CachedPlan {
    const handlerName = `${entry.controller.name}.${entry.name}`;
    const fail = (message: string): never => {
      throw new CacheConfigurationError(`@Cached on ${handlerName}: ${message}`);
    };
    let ttlMs = 0;
    let pattern: ParsedPattern | undefined;
    try {
      ttlMs = ttlToMs(metadata.ttl);
      pattern = parseKeyPattern(metadata.pattern);
    } catch (error) {
      fail((error as Error).message);
    }
    const slots = argumentSlots(entry).filter((slot) => slot.type !== 'body');
    const routeParams = routeParamNames(entry);
    const queryFields = slots
      .filter((s) => s.type === 'query')
      .flatMap((s) => (s.data ? [s.data] : dtoFields(s.metatype)));
    const paramFields = slots
      .filter((s) => s.type === 'param')
      .flatMap((s) => (s.data ? [s.data] : dtoFields(s.metatype)));
    const resolvable = new Set([...routeParams, ...paramFields, ...queryFields, ...CONTEXT_PLACEHOLDERS]);
    for (const name of pattern!.placeholders) {
      if (!resolvable.has(name)) {
        fail(
          `placeholder {${name}} in '${metadata.pattern}' is not a route param, a field of the query DTO, ` +
            `{user.id} or {tenant}`,
        );
      }
    }
    const unkeyed = [...new Set([...routeParams, ...queryFields])].filter(
      (f) => !pattern!.placeholders.includes(f),
    );
    if (unkeyed.length > 0) {
      fail(
        `'${metadata.pattern}' leaves out ${unkeyed.map((f) => `{${f}}`).join(', ')}: requests differing there would share an entry`,
      );
    }
    const guarded =
      (this.reflector.getAllAndMerge<unknown[]>(GUARDS_METADATA, [entry.handler, entry.controller]) ?? [])
        .length > 0;
    const perViewer = pattern!.placeholders.includes('user.id');
    if (guarded && !perViewer && metadata.options.scope !== 'public') {
      fail(
        `the route is behind an auth guard, so its response may depend on the viewer: add {user.id} to ` +
          `'${metadata.pattern}', or declare { scope: 'public' }`,
      );
    }
    this.longestTtlMs = Math.max(this.longestTtlMs, ttlMs);
    const coveringLengths = [
      ...new Set(this.prefixes.filter((p) => prefixCanCover(p, pattern!)).map((p) => p.segments.length)),
    ].sort((a, b) => a - b);
    return {
      handlerName,
      routePath: routePathOf(entry),
      guarded,
      pattern: pattern!,
      ttlMs,
      perViewer,
      coveringLengths,
      slots,
    };
  }

  private planInvalidation(entry: HandlerRef, metadata: InvalidatesMetadata): InvalidatePlan {
    const handlerName = `${entry.controller.name}.${entry.name}`;
    const slots = argumentSlots(entry);
    const known = new Set([
      ...routeParamNames(entry),
      ...slots.flatMap((s) => (s.data ? [s.data] : s.type === 'body' ? [] : dtoFields(s.metatype))),
      ...slots
        .filter((s) => s.type === 'body')
        .flatMap((s) => (s.data ? [`body.${s.data}`] : dtoFields(s.metatype).map((f) => `body.${f}`))),
      ...CONTEXT_PLACEHOLDERS,
    ]);
    const prefixes = metadata.prefixes.map((source) => {
      let parsed: ParsedPattern;
      try {
        parsed = parseKeyPattern(source);
      } catch (error) {
        throw new CacheConfigurationError(`@InvalidatesCache on ${handlerName}: ${(error as Error).message}`);
      }
      for (const name of parsed.placeholders) {
        if (!known.has(name) && !name.startsWith('result.')) {
          throw new CacheConfigurationError(
            `@InvalidatesCache on ${handlerName}: placeholder {${name}} in '${source}' is not a route param, ` +
              'a query field, {body.<field>}, {result.<field>}, {user.id} or {tenant}',
          );
        }
      }
      return parsed;
    });
    return { handlerName, prefixes, slots };
  }
}

interface HandlerRef {
  controller: Type;
  /** The method, typed as Reflector and Reflect metadata look-ups accept it. */
  handler: Type;
  name: string;
}

function argumentSlots(entry: HandlerRef): ArgumentSlot[] {
  const metadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, entry.controller, entry.name) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const paramTypes = (Reflect.getMetadata('design:paramtypes', entry.controller.prototype, entry.name) ??
    []) as Type[];
  return Object.entries(metadata).flatMap(([key, { index, data }]) => {
    const type = SLOT_TYPES[Number(key.split(':')[0]) as RouteParamtypes];
    if (!type) return [];
    return [{ type, data: typeof data === 'string' ? data : undefined, metatype: paramTypes[index] }];
  });
}

/** The path Nest registers with Fastify: controller path and method path joined (no global prefix support). */
function routePathOf(entry: HandlerRef): string {
  const parts = [
    Reflect.getMetadata(PATH_METADATA, entry.controller),
    Reflect.getMetadata(PATH_METADATA, entry.handler),
  ]
    .flat()
    .filter((part): part is string => typeof part === 'string')
    .flatMap((part) => part.split('/'))
    .filter(Boolean);
  return `/${parts.join('/')}`;
}

function routeParamNames(entry: HandlerRef): string[] {
  const paths = [
    Reflect.getMetadata(PATH_METADATA, entry.controller),
    Reflect.getMetadata(PATH_METADATA, entry.handler),
  ];
  return paths
    .flat()
    .filter((path): path is string => typeof path === 'string')
    .flatMap((path) => [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]));
}

/** The validated properties of a DTO class (its own and inherited), from class-validator's metadata. */
function dtoFields(metatype: Type | undefined): string[] {
  if (!metatype || [String, Number, Boolean, Object, Array].includes(metatype as never)) return [];
  const metadata = getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}
