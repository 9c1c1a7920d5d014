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
  'staleServed',
] as const;
export type PrefixCounter = (typeof PER_PREFIX_COUNTERS)[number];
export type PrefixCounters = Record<PrefixCounter, number>;

/** The counters kept per named cache and per decorated provider method. */
export const NAMED_COUNTERS = [
  'hits',
  'l1Hits',
  'l2Hits',
  'misses',
  'sets',
  'deletes',
  'errors',
  'staleRefused',
  'bypasses',
  'singleFlightJoins',
  'staleServed',
] as const;
export type NamedCounter = (typeof NAMED_COUNTERS)[number];
export type NamedCounters = Record<NamedCounter, number> & { hitRatePercent: number | null };

export interface CacheTotals extends PrefixCounters {
  /** All hits: `l1Hits + l2Hits`, of routes, named caches and decorated methods. */
  hits: number;
  /** Requests that waited for a concurrent miss of the same key instead of running the handler themselves. */
  singleFlightJoins: number;
  /** Reads that skipped Redis because the circuit was open. */
  circuitSkips: number;
  /** Requests served uncached because they carried a query parameter their route's key does not name. */
  unkeyedQueries: number;
  /** Answers given from graced entries (fail-safe: errors, timeouts, back-off, stale-while-revalidate). */
  staleServed: number;
  fills: number;
  invalidations: number;
  /** Background refreshes started (stale-while-revalidate, and fresh answers that finished after a stale one). */
  refreshes: number;
  refreshFailures: number;
  /** Fleet single-flight: misses that took the lease and ran the handler for every instance. */
  leasesWon: number;
  /** Misses that found another instance's lease and waited for its fill. */
  leasesWaited: number;
  /** Waits that ended without a fill (the wait's deadline, or a bump meanwhile): the waiter ran the handler. */
  leasesExpired: number;
}

/** What the tiers report about one read or write. */
export type CacheEvent =
  | 'l1Hit'
  | 'l2Hit'
  | 'miss'
  | 'staleRefused'
  | 'bypass'
  | 'timeout'
  | 'error'
  | 'circuitSkip'
  | 'singleFlightJoin'
  | 'unkeyedQuery'
  | 'set'
  | 'delete'
  | 'staleServed';

/** Where the events of one route prefix, named cache or decorated method are counted. */
export interface StatsSink {
  record(event: CacheEvent): void;
}

type Fields<F extends string> = Record<CacheEvent, readonly F[]>;

const TOTALS: Fields<keyof CacheTotals> = {
  l1Hit: ['hits', 'l1Hits'],
  l2Hit: ['hits', 'l2Hits'],
  miss: ['misses'],
  staleRefused: ['staleEntriesRefused'],
  bypass: ['bypasses'],
  timeout: ['timeouts'],
  error: ['l2Errors'],
  circuitSkip: ['circuitSkips'],
  singleFlightJoin: ['singleFlightJoins'],
  unkeyedQuery: ['unkeyedQueries'],
  set: ['fills'],
  delete: [],
  staleServed: ['staleServed'],
};
const PER_PREFIX: Fields<PrefixCounter> = { ...TOTALS, set: [], delete: [] } as Fields<PrefixCounter>;
const PER_NAME: Fields<NamedCounter> = {
  l1Hit: ['hits', 'l1Hits'],
  l2Hit: ['hits', 'l2Hits'],
  miss: ['misses'],
  staleRefused: ['staleRefused'],
  bypass: ['bypasses'],
  timeout: ['errors'],
  error: ['errors'],
  circuitSkip: [],
  singleFlightJoin: ['singleFlightJoins'],
  unkeyedQuery: [],
  set: ['sets'],
  delete: ['deletes'],
  staleServed: ['staleServed'],
};

const zeroes = <F extends string>(fields: readonly F[]) =>
  Object.fromEntries(fields.map((field) => [field, 0])) as Record<F, number>;

/**
 * Counters in total, per route prefix (`jobs:list`), per named cache and per decorated method: every label is a
 * name declared in code, never a key, so their number is bounded. Plain increments on the hot path; read as copies.
 */
@Injectable()
export class CacheCounters {
  readonly totals: CacheTotals = {
    ...zeroes(PER_PREFIX_COUNTERS),
    fills: 0,
    invalidations: 0,
    refreshes: 0,
    refreshFailures: 0,
    leasesWon: 0,
    leasesWaited: 0,
    leasesExpired: 0,
  };
  private readonly routes = new Map<string, { counters: PrefixCounters; sink: StatsSink }>();
  private readonly named = new Map<string, { counters: Record<NamedCounter, number>; sink: StatsSink }>();

  /** The sink of a route prefix, created on first use. */
  route(label: string): StatsSink {
    return this.sinkIn(this.routes, label, PER_PREFIX_COUNTERS, PER_PREFIX);
  }

  /** The sink of a named cache or a decorated method (`JobsService.similar`), created on first use. */
  namespace(name: string): StatsSink {
    return this.sinkIn(this.named, name, NAMED_COUNTERS, PER_NAME);
  }

  /** Counts an event off any route's path (invalidations, failed fills): in total only. */
  countTotal(field: keyof CacheTotals): void {
    this.totals[field]++;
  }

  snapshot(): {
    totals: CacheTotals;
    prefixes: Record<string, PrefixCounters>;
    namespaces: Record<string, NamedCounters>;
  } {
    return {
      totals: { ...this.totals },
      prefixes: Object.fromEntries([...this.routes].map(([label, { counters }]) => [label, { ...counters }])),
      namespaces: Object.fromEntries(
        [...this.named].map(([name, { counters }]) => {
          const reads = counters.hits + counters.misses;
          const hitRatePercent = reads === 0 ? null : Math.round((counters.hits / reads) * 1000) / 10;
          return [name, { ...counters, hitRatePercent }];
        }),
      ),
    };
  }

  private sinkIn<F extends string>(
    groups: Map<string, { counters: Record<F, number>; sink: StatsSink }>,
    name: string,
    fields: readonly F[],
    mapping: Fields<F>,
  ): StatsSink {
    const known = groups.get(name);
    if (known) return known.sink;
    const counters = zeroes(fields);
    const totals = this.totals;
    const sink: StatsSink = {
      record(event) {
        for (const field of TOTALS[event]) totals[field]++;
        for (const field of mapping[event]) counters[field]++;
      },
    };
    groups.set(name, { counters, sink });
    return sink;
  }
}
