import type { Type } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { Reflector } from '@nestjs/core';
import {
  InvalidKeyPatternError,
  CacheConfigurationError,
  InvalidTtlError,
  RedisCacheError,
} from '../errors.js';
import { parseKeyPattern, prefixCanCover, type ParsedPattern } from '../keys/cache-key.util.js';
import { ttlToMs } from '../keys/ttl.util.js';
import { failSafePolicy, type FailSafePolicy } from '../resilience/fail-safe.js';
import type { CachedMetadata, InvalidatesMetadata, ViewerScope } from '../redis-cache.types.js';
import { argumentSlots, type ArgumentSlot, type HandlerRef } from './argument-pipes.js';
import type { DtoFieldReader } from './dto-fields.js';

/** Placeholders that come from the request context rather than from params, query or body. */
const CONTEXT_PLACEHOLDERS = new Set(['user.id', 'tenant']);

export interface CachedPlan {
  /** Small and unique per handler: part of the memo key of request locations. */
  id: number;
  handlerName: string;
  /** Behind a guard (declared on the handler or its controller): never answered before Nest's pipeline. */
  guarded: boolean;
  pattern: ParsedPattern;
  ttlMs: number;
  perViewer: boolean;
  /** Option `scope` as a function: whether this request's entry is the viewer's own or everyone's. */
  viewerScope?: ViewerScope;
  /** Segment counts of the invalidation prefixes that can cover this key (the key's first n segments). */
  coveringLengths: number[];
  slots: ArgumentSlot[];
  /** Query parameters the key names: a request carrying any other one is served uncached. */
  keyedQuery: ReadonlySet<string>;
  /** The literal segments before the first placeholder (`jobs:list`): the statistics label. */
  label: string;
  /** Grace, stale-while-revalidate and timeouts: the route's own over the module's defaults. */
  failSafe: FailSafePolicy;
  /** Responses larger than this many bytes are stored compressed (module option `compressAbove`); false: never. */
  compressAbove: number | false;
}

export interface InvalidatePlan {
  handlerName: string;
  prefixes: ParsedPattern[];
  slots: ArgumentSlot[];
}

export interface PlanContext {
  reflector: Reflector;
  fields: DtoFieldReader;
  /** Every invalidation prefix declared by any handler. */
  prefixes: readonly ParsedPattern[];
  nextId: () => number;
  /** The module's fail-safe defaults. */
  failSafe: FailSafePolicy;
  compressAbove: number | false;
}

/** Re-throws a pattern or TTL error with the handler named, keeping its class and code. */
function named(handlerName: string, decorator: string, error: unknown): never {
  const message = `${decorator} on ${handlerName}: ${(error as Error).message}`;
  if (error instanceof InvalidTtlError) throw new InvalidTtlError(message);
  if (error instanceof RedisCacheError) throw new InvalidKeyPatternError(message);
  throw error;
}

/**
 * Checks a @Cached handler against its route and arguments and works out everything a request needs: TTL, pattern,
 * covering prefixes, which query parameters the key names. A pattern that cannot resolve a placeholder, that leaves
 * a known parameter out (two different requests would share an entry), or a guarded route that does not key on the
 * viewer fails here, at start-up, naming the handler and saying what to write instead.
 */
export function planCached(entry: HandlerRef, metadata: CachedMetadata, context: PlanContext): CachedPlan {
  const handlerName = `${entry.controller.name}.${entry.name}`;
  const where = `@Cached on ${handlerName}`;
  let ttlMs: number;
  let pattern: ParsedPattern;
  try {
    ttlMs = ttlToMs(metadata.ttl);
    pattern = parseKeyPattern(metadata.pattern);
  } catch (error) {
    named(handlerName, '@Cached', error);
  }
  const slots = argumentSlots(entry).filter((slot) => slot.type !== 'body');
  const routeParams = routeParamNames(entry);
  const query = knownFields(slots, 'query', context.fields);
  const params = knownFields(slots, 'param', context.fields);
  const resolvable = new Set([...routeParams, ...params.names, ...query.names, ...CONTEXT_PLACEHOLDERS]);
  for (const name of pattern.placeholders) {
    if (resolvable.has(name) || (query.open && !name.includes('.'))) continue;
    throw new InvalidKeyPatternError(
      `${where}: placeholder {${name}} in '${metadata.pattern}' names nothing the request carries. ` +
        `Use a route param (${list(routeParams)}), a field of the query DTO (${list([...query.names])}), ` +
        '{user.id} or {tenant}',
    );
  }
  const unkeyed = [...new Set([...routeParams, ...query.names])].filter(
    (f) => !pattern.placeholders.includes(f),
  );
  if (unkeyed.length > 0) {
    const suggestion = [metadata.pattern.replace(/:$/, ''), ...unkeyed.map((f) => `{${f}}`)].join(':');
    throw new InvalidKeyPatternError(
      `${where}: '${metadata.pattern}' leaves out ${unkeyed.map((f) => `{${f}}`).join(', ')}, so requests ` +
        `differing there would share an entry. Write '${suggestion}'`,
    );
  }
  const guardSources = [entry.handler, entry.controller];
  const guarded =
    (context.reflector.getAllAndMerge<unknown[]>(GUARDS_METADATA, guardSources) ?? []).length > 0;
  const perViewer = pattern.placeholders.includes('user.id');
  const { scope } = metadata.options;
  if (typeof scope === 'function' && !perViewer)
    throw new CacheConfigurationError(
      `${where}: option scope decides per request whether the key is the viewer's, so '${metadata.pattern}' ` +
        'must contain {user.id}',
    );
  if (scope !== undefined && typeof scope !== 'function' && scope !== 'public' && scope !== 'viewer')
    throw new CacheConfigurationError(`${where}: option scope must be 'public', 'viewer' or a function`);
  if (guarded && !perViewer && scope !== 'public') {
    throw new CacheConfigurationError(
      `${where}: the route is behind a guard, so its answer may depend on the viewer. Key on the viewer ` +
        `('${metadata.pattern.replace(/:$/, '')}:{user.id}'), or declare @Cached(ttl, pattern, { scope: 'public' })`,
    );
  }
  const coveringLengths = [
    ...new Set(context.prefixes.filter((p) => prefixCanCover(p, pattern)).map((p) => p.segments.length)),
  ].sort((a, b) => a - b);
  const keyedQuery = new Set(
    pattern.placeholders.filter((name) => !CONTEXT_PLACEHOLDERS.has(name) && !routeParams.includes(name)),
  );
  return {
    id: context.nextId(),
    handlerName,
    guarded,
    pattern,
    ttlMs,
    perViewer,
    viewerScope: typeof scope === 'function' ? scope : undefined,
    coveringLengths,
    slots,
    keyedQuery,
    label: labelOf(pattern, handlerName),
    failSafe: failSafePolicy(metadata.options, context.failSafe, where),
    compressAbove: context.compressAbove,
  };
}

/** Checks the prefixes of an @InvalidatesCache handler: each placeholder must name something the request has. */
export function planInvalidation(
  entry: HandlerRef,
  metadata: InvalidatesMetadata,
  context: Pick<PlanContext, 'fields'>,
): InvalidatePlan {
  const handlerName = `${entry.controller.name}.${entry.name}`;
  const slots = argumentSlots(entry);
  const query = knownFields(slots, 'query', context.fields);
  const body = knownFields(slots, 'body', context.fields);
  const known = new Set([
    ...routeParamNames(entry),
    ...knownFields(slots, 'param', context.fields).names,
    ...query.names,
    ...[...body.names].map((field) => `body.${field}`),
    ...CONTEXT_PLACEHOLDERS,
  ]);
  const prefixes = metadata.prefixes.map((source) => {
    let parsed: ParsedPattern;
    try {
      parsed = parseKeyPattern(source);
    } catch (error) {
      named(handlerName, '@InvalidatesCache', error);
    }
    for (const name of parsed.placeholders) {
      const open = name.startsWith('body.') ? body.open : !name.includes('.') && query.open;
      if (known.has(name) || open || name.startsWith('result.')) continue;
      throw new InvalidKeyPatternError(
        `@InvalidatesCache on ${handlerName}: placeholder {${name}} in '${source}' names nothing the request ` +
          'carries. Use a route param, a query field, {body.<field>}, {result.<field>}, {user.id} or {tenant}',
      );
    }
    return parsed;
  });
  return { handlerName, prefixes, slots };
}

const list = (names: string[]) => (names.length === 0 ? 'none' : names.map((n) => `{${n}}`).join(', '));

/** Fields of the slots of one type: named slots (`@Query('page')`) plus every field their DTOs declare. */
function knownFields(slots: ArgumentSlot[], type: ArgumentSlot['type'], reader: DtoFieldReader) {
  const names = new Set<string>();
  let open = false;
  for (const slot of slots) {
    if (slot.type !== type) continue;
    if (slot.data !== undefined) {
      names.add(slot.data);
      continue;
    }
    const fields = reader.fields(slot.metatype);
    if (fields.open) open = true;
    else for (const name of fields.names) names.add(name);
  }
  return { names, open };
}

function routeParamNames(entry: { controller: Type; handler: Type }): string[] {
  const paths = [
    Reflect.getMetadata(PATH_METADATA, entry.controller),
    Reflect.getMetadata(PATH_METADATA, entry.handler),
  ];
  return paths
    .flat()
    .filter((path): path is string => typeof path === 'string')
    .flatMap((path) => [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]));
}

/** The literal segments of a pattern before its first placeholder: `jobs:list`, `jobs:stats:overview`. */
function labelOf(pattern: ParsedPattern, handlerName: string): string {
  const literals: string[] = [];
  for (const segment of pattern.segments) {
    if (segment.kind !== 'literal') break;
    literals.push(segment.value);
  }
  return literals.join(':') || handlerName;
}
