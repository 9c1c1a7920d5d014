import type { Type } from '@nestjs/common';
import {
  CacheConfigurationError,
  InvalidKeyPatternError,
  InvalidTtlError,
  RedisCacheError,
} from '../errors.js';
import { parseKeyPattern, prefixCanCover, type ParsedPattern } from '../keys/cache-key.util.js';
import { ttlToMs } from '../keys/ttl.util.js';
import { failSafePolicy, type FailSafePolicy } from '../resilience/fail-safe.js';
import type { CachedMetadata, InvalidatesMetadata } from '../redis-cache.types.js';

/** A provider method as the registry finds it: its class, its instance, and its name. */
export interface MethodRef {
  provider: Type;
  instance: Record<string, unknown>;
  name: string;
}

export interface MethodCachePlan {
  ref: MethodRef;
  handlerName: string;
  namespace: string;
  ttlMs: number;
  pattern: ParsedPattern;
  /** Segment counts of the declared invalidation prefixes that can cover this key. */
  coveringLengths: number[];
  failSafe: FailSafePolicy;
}

export interface MethodInvalidatePlan {
  ref: MethodRef;
  handlerName: string;
  prefixes: ParsedPattern[];
}

/** `{0}`, `{1.id}`: an argument by position, and a path inside it. */
const POSITIONAL = /^(\d{1,2})(?:\.|$)/;

function named(handlerName: string, decorator: string, error: unknown): never {
  const message = `${decorator} on ${handlerName}: ${(error as Error).message}`;
  if (error instanceof InvalidTtlError) throw new InvalidTtlError(message);
  if (error instanceof RedisCacheError) throw new InvalidKeyPatternError(message);
  throw error;
}

function isAsync(ref: MethodRef): boolean {
  const method = ref.instance[ref.name] as { constructor?: { name?: string } } | undefined;
  const returns = Reflect.getMetadata('design:returntype', ref.provider.prototype, ref.name) as unknown;
  return method?.constructor?.name === 'AsyncFunction' || returns === Promise;
}

function parameterCount(ref: MethodRef): number {
  const types = Reflect.getMetadata('design:paramtypes', ref.provider.prototype, ref.name) as
    unknown[] | undefined;
  return types?.length ?? (ref.instance[ref.name] as (...args: unknown[]) => unknown).length;
}

/** Checks each placeholder of a provider method's pattern: an argument it has, `{tenant}`, or (`allowResult`) the result. */
function checkPlaceholders(
  where: string,
  source: string,
  pattern: ParsedPattern,
  count: number,
  tenantResolver: boolean,
  allowResult: boolean,
): Set<number> {
  const used = new Set<number>();
  for (const name of pattern.placeholders) {
    const position = POSITIONAL.exec(name);
    if (position) {
      const index = Number(position[1]);
      if (index >= count)
        throw new InvalidKeyPatternError(
          `${where}: {${name}} in '${source}' names argument ${index}, but the method takes ${count}`,
        );
      used.add(index);
    } else if (name === 'tenant') {
      if (!tenantResolver)
        throw new InvalidKeyPatternError(
          `${where}: {tenant} in '${source}' needs the module's tenantResolver`,
        );
    } else if (!(allowResult && name.startsWith('result.'))) {
      throw new InvalidKeyPatternError(
        `${where}: {${name}} in '${source}' is not an argument: on a provider method, name arguments by position ` +
          `({0}, {1.id})${allowResult ? ', the result ({result.id})' : ''} or {tenant}`,
      );
    }
  }
  return used;
}

/**
 * Checks @Cached on a provider method and works out its key: the method must be async, every placeholder must name
 * an argument (by position and path) or `{tenant}`, and every argument must be in the key unless `ignore`d, so
 * that two calls differing in an argument never share a value. Errors name the class and method.
 */
export function planMethodCache(
  ref: MethodRef,
  metadata: CachedMetadata,
  context: { prefixes: readonly ParsedPattern[]; tenantResolver: boolean; failSafe: FailSafePolicy },
): MethodCachePlan {
  const { prefixes, tenantResolver } = context;
  const handlerName = `${ref.provider.name}.${ref.name}`;
  const where = `@Cached on ${handlerName}`;
  if (!isAsync(ref))
    throw new CacheConfigurationError(
      `${where}: only the resolved value of a promise is cached; declare it 'async ${ref.name}(...)' or return a Promise`,
    );
  let ttlMs: number;
  let pattern: ParsedPattern;
  try {
    ttlMs = ttlToMs(metadata.ttl);
    pattern = parseKeyPattern(metadata.pattern);
  } catch (error) {
    named(handlerName, '@Cached', error);
  }
  const count = parameterCount(ref);
  const used = checkPlaceholders(where, metadata.pattern, pattern, count, tenantResolver, false);
  const ignored = new Set(metadata.options.ignore ?? []);
  const left = Array.from({ length: count }, (_, i) => i).filter((i) => !used.has(i) && !ignored.has(i));
  if (left.length > 0)
    throw new InvalidKeyPatternError(
      `${where}: '${metadata.pattern}' leaves out argument ${left.join(', ')}, so calls differing there would share ` +
        `a value. Write '${[metadata.pattern.replace(/:$/, ''), ...left.map((i) => `{${i}}`)].join(':')}', or ` +
        `declare @Cached(ttl, pattern, { ignore: [${left.join(', ')}] })`,
    );
  const coveringLengths = [
    ...new Set(prefixes.filter((p) => prefixCanCover(p, pattern)).map((p) => p.segments.length)),
  ].sort((a, b) => a - b);
  const namespace = metadata.options.namespace ?? handlerName;
  const failSafe = failSafePolicy(metadata.options, context.failSafe, where);
  return { ref, handlerName, namespace, ttlMs, pattern, coveringLengths, failSafe };
}

/** Checks @InvalidatesCache on a provider method: arguments by position, `{result.<path>}` and `{tenant}`. */
export function planMethodInvalidation(
  ref: MethodRef,
  metadata: InvalidatesMetadata,
  tenantResolver: boolean,
): MethodInvalidatePlan {
  const handlerName = `${ref.provider.name}.${ref.name}`;
  const where = `@InvalidatesCache on ${handlerName}`;
  if (!isAsync(ref))
    throw new CacheConfigurationError(
      `${where}: invalidation runs after the method's promise resolves; declare it 'async ${ref.name}(...)'`,
    );
  const count = parameterCount(ref);
  const prefixes = metadata.prefixes.map((source) => {
    let parsed: ParsedPattern;
    try {
      parsed = parseKeyPattern(source);
    } catch (error) {
      named(handlerName, '@InvalidatesCache', error);
    }
    checkPlaceholders(where, source, parsed, count, tenantResolver, true);
    return parsed;
  });
  return { ref, handlerName, prefixes };
}
