import { createHash } from 'node:crypto';
import { encodeKeyValue } from './cache-key.util.js';

/**
 * The physical layout of the cache in Redis, defined here and nowhere else (README: "Adding caching"):
 *
 *   <prefix>c:<logical key>              an entry, e.g. jobboard:c:jobs:list:0:20:~:Berlin:~:~:active
 *   <prefix>g:<prefix segments>:         the generation counter of an invalidation prefix, e.g. jobboard:g:jobs:list:
 *   <prefix>g:                           the root generation, bumped by clear()
 *   <prefix>t:<tenant>:c:... / t:<tenant>:g:...   the same, per tenant, when a tenant resolver is configured
 *   <prefix>n:<namespace>:<key>          a named cache's value (or a decorated method's), e.g. jobboard:n:embeddings:9f2c
 *   <prefix>ng:<namespace>:              the namespace's counter (clear()); ng:<namespace>:<segments>: a key prefix's
 *   <prefix>nd:<namespace>:<0-1023>       a delete bucket's counter: delete(key) bumps its key's bucket
 *   <prefix>t:<tenant>:n:... / t:<tenant>:ng:... / t:<tenant>:nd:...  the same, per tenant
 *   <prefix>l:<entry key after prefix>:<digest>  a fleet single-flight lease of one entry under some generations
 *   <prefix>invalidations                 the pub/sub channel of generation bumps (a channel, not a key)
 *   <prefix>w:<encoded key>               a fleet-wide window counter (countInWindow), e.g. jobboard:w:login%3A10.0.0.7
 *   <prefix>t:<tenant>:w:...              the same, per tenant
 *
 * On Redis Cluster every counter and the channel carry one hash tag after the prefix, `<prefix>{<prefix>}g:...`
 * (e.g. `jobboard:{jobboard}g:jobs:list:`, `jobboard:{jobboard}invalidations`): a bump's MULTI, its SPUBLISH and a
 * hit's MGET of counters then stay in one slot, while entries and leases, untagged, spread over the masters.
 *
 * Every key carries a TTL: entries their route's; generation counters one entry TTL while only looked up, at least a
 * day once filled, refreshed on use; leases a few seconds; window counters their window. The markers `c:`, `g:`,
 * `n:`, `ng:`, `nd:`, `l:`, `w:` and `t:` differ in their first two characters, and values are encoded so that they
 * never contain `:` unescaped: no key of one kind can be spelt as a key of another.
 */
export class KeySpace {
  readonly rootGeneration: string;
  /** The pub/sub channel on which instances sharing this prefix announce invalidations to each other's L1. */
  readonly channel: string;

  /** Where counters and the channel begin: the prefix, followed on Cluster by the hash tag they share. */
  private readonly counterPrefix: string;

  constructor(
    readonly prefix: string,
    options: { cluster?: boolean } = {},
  ) {
    this.counterPrefix = options.cluster ? `${prefix}${clusterHashTag(prefix)}` : prefix;
    this.rootGeneration = `${this.counterPrefix}g:`;
    this.channel = `${this.counterPrefix}invalidations`;
  }

  private scope(tenant: string | undefined, base = this.prefix): string {
    return tenant === undefined ? base : `${base}t:${encodeKeyValue(tenant)}:`;
  }

  entry(tenant: string | undefined, logicalKey: string): string {
    return `${this.scope(tenant)}c:${logicalKey}`;
  }

  /** Physical prefix of every entry under a logical prefix (for the SCAN fallback of unknown prefixes). */
  entryPrefix(tenant: string | undefined, segments: string[]): string {
    return `${this.scope(tenant)}c:${segments.map((s) => `${s}:`).join('')}`;
  }

  generation(tenant: string | undefined, segments: string[]): string {
    return `${this.scope(tenant, this.counterPrefix)}g:${segments.map((s) => `${s}:`).join('')}`;
  }

  /**
   * The fleet single-flight lease of an entry (any kind, any tenant) for the generations a miss read: a bump
   * during a flight makes a new lease, so that nobody after it waits for a run that began before it.
   */
  lease(entryKey: string, generations: readonly string[]): string {
    return `${this.prefix}l:${entryKey.slice(this.prefix.length)}:${generationsDigest(generations)}`;
  }

  /** A window counter (rate limits, quotas): `key` is the caller's, encoded so that it cannot spell another kind. */
  windowCounter(tenant: string | undefined, key: string): string {
    return `${this.scope(tenant)}w:${encodeKeyValue(key)}`;
  }

  /** A named cache's (or decorated method's) value: `logicalKey` is already encoded and joined. */
  namedEntry(tenant: string | undefined, namespace: string, logicalKey: string): string {
    return `${this.scope(tenant)}n:${namespace}:${logicalKey}`;
  }

  /** The counter of one of a namespace's delete buckets (a key's bucket is a hash of it). */
  namedDeletion(tenant: string | undefined, namespace: string, bucket: number): string {
    return `${this.scope(tenant, this.counterPrefix)}nd:${namespace}:${bucket}`;
  }

  /** The counter of a namespace (no segments) or of a key prefix within it, for one tenant or none. */
  namedGeneration(tenant: string | undefined, namespace: string, segments: string[]): string {
    return `${this.scope(tenant, this.counterPrefix)}ng:${namespace}:${segments.map((s) => `${s}:`).join('')}`;
  }
}

/** The module's key space: its prefix (with a trailing `:`), tagged for Cluster when the options name one. */
export function keySpaceFor(options: { prefix: string; cluster?: unknown }): KeySpace {
  const prefix = options.prefix.endsWith(':') ? options.prefix : `${options.prefix}:`;
  return new KeySpace(prefix, { cluster: options.cluster !== undefined });
}

/**
 * The hash tag of a prefix's counters on Cluster: the prefix without its trailing `:`. Redis hashes only what is
 * between the first `{` and the next `}`, so the prefix itself must hold neither (checked at start-up).
 */
export function clusterHashTag(prefix: string): string {
  return `{${prefix.replace(/:$/, '') || 'cache'}}`;
}

/** A short, stable digest of the generations a lease is scoped to. */
function generationsDigest(generations: readonly string[]): string {
  return createHash('sha1').update(generations.join(',')).digest('base64url').slice(0, 16);
}
