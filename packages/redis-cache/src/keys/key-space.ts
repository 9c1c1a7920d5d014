import { encodeKeyValue } from './cache-key.util.js';

/**
 * The physical layout of the cache in Redis, defined here and nowhere else (README: "Adding caching"):
 *
 *   <prefix>c:<logical key>              an entry, e.g. jobboard:c:jobs:list:0:20:~:Berlin:~:~:active
 *   <prefix>g:<prefix segments>:         the generation counter of an invalidation prefix, e.g. jobboard:g:jobs:list:
 *   <prefix>g:                           the root generation, bumped by clear()
 *   <prefix>t:<tenant>:c:... / t:<tenant>:g:...   the same, per tenant, when a tenant resolver is configured
 *   <prefix>invalidations                 the pub/sub channel of generation bumps (a channel, not a key)
 *
 * Every key carries a TTL: entries their route's, counters at least a day, refreshed on use.
 */
export class KeySpace {
  readonly rootGeneration: string;
  /** The pub/sub channel on which instances sharing this prefix announce invalidations to each other's L1. */
  readonly channel: string;

  constructor(readonly prefix: string) {
    this.rootGeneration = `${prefix}g:`;
    this.channel = `${prefix}invalidations`;
  }

  private scope(tenant: string | undefined): string {
    return tenant === undefined ? this.prefix : `${this.prefix}t:${encodeKeyValue(tenant)}:`;
  }

  entry(tenant: string | undefined, logicalKey: string): string {
    return `${this.scope(tenant)}c:${logicalKey}`;
  }

  /** Physical prefix of every entry under a logical prefix (for the SCAN fallback of unknown prefixes). */
  entryPrefix(tenant: string | undefined, segments: string[]): string {
    return `${this.scope(tenant)}c:${segments.map((s) => `${s}:`).join('')}`;
  }

  generation(tenant: string | undefined, segments: string[]): string {
    return `${this.scope(tenant)}g:${segments.map((s) => `${s}:`).join('')}`;
  }
}
