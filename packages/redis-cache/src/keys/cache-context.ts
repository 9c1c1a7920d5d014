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
  if (name.startsWith('body.')) return sources.body[name.slice(5)];
  if (name.startsWith('result.')) {
    const result = sources.result as Record<string, unknown> | null | undefined;
    return result?.[name.slice(7)];
  }
  return name in sources.params ? sources.params[name] : sources.query[name];
}

/** The viewer as auth guards leave it on the request (`request.user.id`), the common NestJS convention. */
export function viewerOf(request: CacheRequest): unknown {
  return (request.user as { id?: unknown } | undefined)?.id;
}

export function tenantOf(request: CacheRequest, options: RedisCacheModuleOptions): string | undefined {
  return options.tenantResolver?.(request);
}
