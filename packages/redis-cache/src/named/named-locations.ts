import { Injectable } from '@nestjs/common';
import { CacheConfigurationError, InvalidKeyPatternError } from '../errors.js';
import { encodeKeyValue, joinKey } from '../keys/cache-key.util.js';
import { KeySpace } from '../keys/key-space.js';
import { DEFAULT_COMPRESS_ABOVE } from '../platform/content-encoding.js';
import { ttlToMs } from '../keys/ttl.util.js';
import { CacheCounters, type StatsSink } from '../observability/cache-counters.js';
import type { EntryLocation } from '../storage/entry-store.js';
import type { NamespaceOptions } from './named-cache.types.js';
import { resolveCodec, type CacheCodec } from './value-codec.js';
import { failSafePolicy, type FailSafePolicy } from '../resilience/fail-safe.js';

/** A namespace as declared: everything a call needs besides its key. */
export interface NamespaceConfig<T> {
  name: string;
  ttlMs: number;
  tenant: string | undefined;
  codec: CacheCodec<T>;
  compressAbove: number;
  prefixDepth: number;
  stats: StatsSink;
  /** The namespace's fail-safe over the module's defaults; `wrap` options may override it per call. */
  failSafe: FailSafePolicy;
}

const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_NAMESPACES = 256;
const MAX_KEY_LENGTH = 8_192;
const MAX_PREFIX_DEPTH = 8;
/**
 * `delete(key)` bumps the counter of the key's bucket, so that a `wrap` computing across the delete stores its value
 * under a dead generation, as an invalidation does; the price is that the 1/1024 of the namespace sharing the bucket
 * is recomputed too. A counter per key would double the keyspace; no counter could not close that race.
 */
const DELETE_BUCKETS = 1024;

/**
 * Where named values live (ARCHITECTURE.md §9.2): `<prefix>[t:<tenant>:]n:<namespace>:<key>`, covered by the root
 * counter (`clear()` of the module), the namespace's (for every tenant and, with a tenant, that tenant's), the key's
 * delete bucket and the counters of its leading segments (`invalidate(prefix)`). Also checks namespace declarations.
 */
@Injectable()
export class NamedLocations {
  private readonly declared = new Set<string>();

  constructor(
    private readonly keys: KeySpace,
    private readonly counters: CacheCounters,
  ) {}

  configure<T>(name: string, options: NamespaceOptions<T>, defaults: FailSafePolicy): NamespaceConfig<T> {
    if (!NAMESPACE.test(name))
      throw new CacheConfigurationError(
        `namespace ${JSON.stringify(name)}: use 1 to 64 letters, digits, '_', '.' or '-' (e.g. 'embeddings')`,
      );
    if (!this.declared.has(name) && this.declared.size >= MAX_NAMESPACES)
      throw new CacheConfigurationError(
        `namespace '${name}': at most ${MAX_NAMESPACES} namespaces (their names label statistics); key values, ` +
          'not namespaces, should vary per item',
      );
    const prefixDepth = options.prefixDepth ?? 3;
    if (!Number.isInteger(prefixDepth) || prefixDepth < 0 || prefixDepth > MAX_PREFIX_DEPTH)
      throw new CacheConfigurationError(
        `namespace '${name}': prefixDepth must be a whole number from 0 to 8`,
      );
    const compressAbove = options.compressAbove ?? DEFAULT_COMPRESS_ABOVE;
    if (!(compressAbove >= 0))
      throw new CacheConfigurationError(`namespace '${name}': compressAbove must be a number of bytes >= 0`);
    this.declared.add(name);
    return {
      name,
      ttlMs: ttlToMs(options.ttl),
      tenant: options.tenant,
      codec: resolveCodec(options.codec),
      compressAbove,
      prefixDepth,
      stats: this.counters.namespace(name),
      failSafe: failSafePolicy(options, defaults, `namespace '${name}'`),
    };
  }

  /** Where a key of a namespace lives, and every counter that covers it. */
  locate(config: NamespaceConfig<unknown>, key: string | number, tenant: string | undefined): EntryLocation {
    const segments = keySegments(key);
    const logicalKey = joinKey(segments);
    // Prefixes shorter than the key: a counter per whole key would double the keyspace (delete covers one key).
    const depth = Math.min(config.prefixDepth, segments.length - 1);
    const covering = [
      this.deletionKey(config, logicalKey, tenant),
      ...Array.from({ length: depth }, (_, i) =>
        this.keys.namedGeneration(tenant, config.name, segments.slice(0, i + 1)),
      ),
    ];
    return this.location(config, logicalKey, tenant, covering);
  }

  /** The delete bucket counter of a key (see DELETE_BUCKETS). */
  deletionKey(config: NamespaceConfig<unknown>, logicalKey: string, tenant: string | undefined): string {
    return this.keys.namedDeletion(tenant, config.name, fnv1a(logicalKey) % DELETE_BUCKETS);
  }

  /** A location from an already rendered key and the extra counters covering it (a decorated method's). */
  location(
    config: NamespaceConfig<unknown>,
    logicalKey: string,
    tenant: string | undefined,
    covering: string[],
  ): EntryLocation {
    return {
      entryKey: this.keys.namedEntry(tenant, config.name, logicalKey),
      lookupTtlMs: config.ttlMs,
      generationKeys: [
        this.keys.rootGeneration,
        this.keys.namedGeneration(undefined, config.name, []),
        ...(tenant === undefined ? [] : [this.keys.namedGeneration(tenant, config.name, [])]),
        ...covering,
      ],
      stats: config.stats,
    };
  }
}

/** 32-bit FNV-1a: a fast, well-spread hash for bucketing (not for security). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A key's segments, each encoded like a route key's values (`:` keeps separating them). */
export function keySegments(key: string | number): string[] {
  const text = String(key);
  if (text.length === 0 || text.length > MAX_KEY_LENGTH)
    throw new InvalidKeyPatternError(`a named cache key must be 1 to ${MAX_KEY_LENGTH} characters long`);
  return text.split(':').map((segment) => encodeKeyValue(segment));
}
