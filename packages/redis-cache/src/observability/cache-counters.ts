import { Injectable } from '@nestjs/common';

/** The counters kept per route prefix as well as in total. */
export const PER_PREFIX_COUNTERS = [
  'hits',
  'l1Hits',
  'l2Hits',
  'misses',
  'bypasses',
  'staleEntriesRefused',
  'singleFlightJoins',
  'timeouts',
  'l2Errors',
  'circuitSkips',
  'unkeyedQueries',
] as const;
export type PrefixCounter = (typeof PER_PREFIX_COUNTERS)[number];
export type PrefixCounters = Record<PrefixCounter, number>;

export interface CacheTotals extends PrefixCounters {
  /** All hits: `l1Hits + l2Hits`. */
  hits: number;
  /** Requests that waited for a concurrent miss of the same key instead of running the handler themselves. */
  singleFlightJoins: number;
  /** Reads that skipped Redis because the circuit was open. */
  circuitSkips: number;
  /** Requests served uncached because they carried a query parameter their route's key does not name. */
  unkeyedQueries: number;
  fills: number;
  invalidations: number;
}

const zeroes = (): PrefixCounters =>
  Object.fromEntries(PER_PREFIX_COUNTERS.map((field) => [field, 0])) as PrefixCounters;

/**
 * Request-level counters, in total and per route prefix (`jobs:list`: bounded by the number of @Cached routes,
 * never a key). Plain increments on the hot path; read as copies.
 */
@Injectable()
export class CacheCounters {
  readonly totals: CacheTotals = { ...zeroes(), fills: 0, invalidations: 0 };
  private readonly perPrefix = new Map<string, PrefixCounters>();

  /** Counts an event in total and for its route prefix; a Map lookup and two increments per field. */
  count(label: string, ...fields: PrefixCounter[]): void {
    let counters = this.perPrefix.get(label);
    if (!counters) {
      counters = zeroes();
      this.perPrefix.set(label, counters);
    }
    for (const field of fields) {
      this.totals[field]++;
      counters[field]++;
    }
  }

  /** Counts an event off a request's path (fills, invalidations, their failures): in total only. */
  countTotal(field: keyof CacheTotals): void {
    this.totals[field]++;
  }

  snapshot(): { totals: CacheTotals; prefixes: Record<string, PrefixCounters> } {
    return {
      totals: { ...this.totals },
      prefixes: Object.fromEntries([...this.perPrefix].map(([label, counters]) => [label, { ...counters }])),
    };
  }
}
