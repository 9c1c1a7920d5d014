import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RedisCacheService } from '@jobboard/redis-cache';
import { DatabaseOutages } from '../database/database-outages.js';
import { registerCoherenceMetrics } from './coherence.metrics.js';

const CIRCUIT_STATE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Prometheus metrics (ARCHITECTURE.md §7) in a registry of the app's own. Cache counters are read from the cache
 * module when scraped (nothing added to the hot path) and labelled by route prefix (`jobs:list`), never by key;
 * Redis call latency and HTTP request duration are histograms.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    cache: RedisCacheService,
    outages: DatabaseOutages,
  ) {
    collectDefaultMetrics({ register: this.registry });
    // These gauges end in _total, which promtool's lint reserves for counters; the unsuffixed ones remain.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      this.registry.removeSingleMetric(name);

    const registers = [this.registry];
    new Counter({
      name: 'cache_requests_total',
      help: 'Cached-route requests by route prefix and result (hit_l1, hit_l2, miss, bypass).',
      labelNames: ['prefix', 'result'] as const,
      registers,
      collect() {
        this.reset();
        for (const [prefix, c] of Object.entries(cache.stats().prefixes)) {
          this.inc({ prefix, result: 'hit_l1' }, c.l1Hits);
          this.inc({ prefix, result: 'hit_l2' }, c.l2Hits);
          this.inc({ prefix, result: 'miss' }, c.misses);
          this.inc({ prefix, result: 'bypass' }, c.bypasses);
        }
      },
    });
    new Counter({
      name: 'cache_namespace_operations_total',
      help:
        'Named-cache and decorated-method operations by namespace and result (hit_l1, hit_l2, miss, set, ' +
        'delete, error, stale_refused).',
      labelNames: ['namespace', 'result'] as const,
      registers,
      collect() {
        this.reset();
        for (const [namespace, c] of Object.entries(cache.stats().namespaces)) {
          this.inc({ namespace, result: 'hit_l1' }, c.l1Hits);
          this.inc({ namespace, result: 'hit_l2' }, c.l2Hits);
          this.inc({ namespace, result: 'miss' }, c.misses);
          this.inc({ namespace, result: 'set' }, c.sets);
          this.inc({ namespace, result: 'delete' }, c.deletes);
          this.inc({ namespace, result: 'error' }, c.errors);
          this.inc({ namespace, result: 'stale_refused' }, c.staleRefused);
        }
      },
    });
    const perPrefix = [
      [
        'cache_stale_entries_refused_total',
        'Entries found in Redis but filled under an older generation, refused (the stale-set race closed).',
        'staleEntriesRefused',
      ],
      [
        'cache_single_flight_joins_total',
        'Requests that waited for a concurrent miss of the same key instead of running the handler.',
        'singleFlightJoins',
      ],
      [
        'cache_l2_read_errors_total',
        'Redis reads on a request path that failed (connection, protocol).',
        'l2Errors',
      ],
      ['cache_l2_timeouts_total', 'Redis reads that missed the per-request deadline.', 'timeouts'],
      ['cache_circuit_skips_total', 'Reads that skipped Redis because the circuit was open.', 'circuitSkips'],
      [
        'cache_stale_served_total',
        'Answers from graced entries (X-Cache: STALE) while the handler failed, was late, or was refreshing.',
        'staleServed',
      ],
    ] as const;
    for (const [name, help, field] of perPrefix)
      new Counter({
        name,
        help,
        labelNames: ['prefix'] as const,
        registers,
        collect() {
          this.reset();
          for (const [prefix, c] of Object.entries(cache.stats().prefixes)) this.inc({ prefix }, c[field]);
        },
      });
    const totals = [
      [
        'cache_l2_errors_total',
        'Redis calls that failed, on any path (reads, fills, invalidations).',
        'l2Errors',
      ],
      ['cache_invalidations_total', 'Invalidations (generation bumps) requested.', 'invalidations'],
      [
        'cache_background_refreshes_total',
        'Handler runs finished in the background (stale-while-revalidate, or after a stale answer).',
        'refreshes',
      ],
      ['cache_background_refresh_failures_total', 'Background refreshes that failed.', 'refreshFailures'],
    ] as const;
    for (const [name, help, field] of totals)
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(cache.stats().totals[field]);
        },
      });
    new Counter({
      name: 'database_unavailable_total',
      help: 'Requests answered 503 because the database could not serve them (unavailable, or too slow).',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const [kind, count] of Object.entries(outages.counts)) this.inc({ kind }, count);
      },
    });
    registerCoherenceMetrics(this.registry, cache);
    new Gauge({
      name: 'cache_circuit_state',
      help: 'Circuit breaker around Redis: 0 closed, 1 half-open, 2 open.',
      registers,
      collect() {
        this.set(CIRCUIT_STATE[cache.status().circuit]);
      },
    });
    new Gauge({
      name: 'cache_circuit_open_seconds',
      help: 'Time the circuit has spent open or half-open since start.',
      registers,
      collect() {
        this.set(cache.stats().circuit.timeOpenMs / 1000);
      },
    });
    new Gauge({
      name: 'cache_l1_entries',
      help: 'Entries held in this process (L1, or the memory store without Redis).',
      registers,
      collect() {
        this.set(cache.stats().l1.entries);
      },
    });
    new Gauge({
      name: 'cache_l1_bytes',
      help: 'Bytes accounted in L1 (bounded by CACHE_L1_MAX_BYTES).',
      registers,
      collect() {
        this.set(cache.stats().l1.bytes);
      },
    });
    const l2Duration = new Histogram({
      name: 'cache_l2_duration_seconds',
      help: 'Redis calls on a request path, by outcome (ok, error, timeout, skipped by the circuit).',
      labelNames: ['outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5],
      registers,
    });
    cache.on('l2-call', ({ durationMs, outcome }) => l2Duration.observe({ outcome }, durationMs / 1000));
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }

  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;

  /** Every response, cache hits answered from the fast path included; the route pattern keeps cardinality bounded. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onResponse', (request, reply, done) => {
      this.httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
}
