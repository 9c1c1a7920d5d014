import type { ValidatedArguments } from '../decorators/argument-pipes.js';
import type { CacheRequest, RedisCacheModuleOptions } from '../redis-cache.types.js';

/** What a placeholder can name: validated params and query (params first), body, result, viewer and tenant. */
export interface PlaceholderSources extends ValidatedArguments {
  viewerId: unknown;
  tenant: string | undefined;
  result?: unknown;
}

export function resolvePlaceholder(name: string, sources: PlaceholderSources): unknown {
  if (name === 'user.id') return sources.viewerId;
  if (name === 'tenant') return sources.tenant;
  if (name.startsWith('body.')) return valueAt(sources.body, name.slice(5));
  if (name.startsWith('result.')) return valueAt(sources.result, name.slice(7));
  return name in sources.params ? sources.params[name] : sources.query[name];
}

const UNSAFE_PARTS = new Set(['__proto__', 'constructor', 'prototype']);

/** The value at a dotted path (`author.id`) below `value`; undefined where the path ends early. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    // Getters of a class are fine (an entity's `authorId`); the object machinery is not (`{0.constructor}`).
    if (UNSAFE_PARTS.has(part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The viewer as auth guards leave it on the request (`request.user.id`), the common NestJS convention. */
export function viewerOf(request: CacheRequest): unknown {
  return (request.user as { id?: unknown } | undefined)?.id;
}

export function tenantOf(request: CacheRequest, options: RedisCacheModuleOptions): string | undefined {
  return options.tenantResolver?.(request);
}
