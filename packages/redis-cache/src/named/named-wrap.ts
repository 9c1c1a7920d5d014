import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { CacheTimeoutError } from '../errors.js';
import { InvalidationBus } from '../invalidation/invalidation-bus.js';
import type { StaleReason } from '../redis-cache.types.js';
import { FailSafe, isClientError, type FailSafePolicy } from '../resilience/fail-safe.js';
import type { CacheEntry } from '../storage/cache-entry.js';
import type { EntryLocation } from '../storage/entry-store.js';
import { FleetLeases } from '../tiers/fleet-leases.js';
import { SingleFlight } from '../tiers/single-flight.js';
import { TieredCache, type MissOrBypass } from '../tiers/tiered-cache.js';
import type { NamespaceConfig } from './named-locations.js';
import { NamedValues } from './named-values.js';
import type { PackedValue } from './value-codec.js';

/**
 * What a finished `compute` gives the callers who joined it: the value, and its bytes for a copy of their own;
 * undefined when the flight ran nothing (a background refresh another instance was already doing).
 */
type ValueOutcome = { value: unknown; packed: PackedValue | undefined } | undefined;

export interface WrapCall {
  ttlMs: number;
  policy: FailSafePolicy;
}

/**
 * `wrap`: get or compute, once per process and, through a lease in Redis, once per fleet; with a grace, a graced
 * value stands in when `compute` throws (not with a 4xx), runs past `softTimeout`, or failed less than
 * `graceBackoff` ago, and with `staleWhileRevalidate` at once while one refresh runs in the background.
 */
@Injectable()
export class NamedWrap {
  private readonly flights: SingleFlight<ValueOutcome>;

  constructor(
    private readonly tiers: TieredCache,
    private readonly values: NamedValues,
    private readonly failSafe: FailSafe,
    private readonly leases: FleetLeases,
    private readonly bus: InvalidationBus,
  ) {
    this.flights = new SingleFlight<ValueOutcome>(bus.ledger);
  }

  async wrap<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    compute: () => T | Promise<T>,
    call: WrapCall,
  ): Promise<T> {
    const { policy } = call;
    if (policy.graceMs === 0) {
      const joined = this.flights.join(location.entryKey);
      if (joined) return this.joinFlight(config, location, joined, compute, call);
    }
    const read = await this.tiers.readThrough(location);
    let lookup: MissOrBypass;
    if (read.kind === 'hit') {
      const found = await this.values.unpack(config, read.entry);
      if (found) return found.value;
      // Written by another codec or corrupted, but under current generations: replace it.
      const { generations } = read.entry as CacheEntry;
      lookup = {
        kind: 'miss',
        generations,
        snapshot: this.bus.ledger.snapshot(),
        verifiedAt: performance.now(),
      };
    } else {
      lookup = read;
    }
    const graced = policy.graceMs > 0 ? await this.gracedValue(config, location, lookup) : undefined;
    if (graced && this.failSafe.inBackoff(location.entryKey)) return this.stale(config, graced, 'backoff');
    if (graced && policy.staleWhileRevalidate) {
      // Zero wait on the fleet lease: if another instance is already refreshing, this one does not.
      const refresh = () => this.computeAndStore(config, location, lookup, compute, call, 0);
      this.failSafe.refreshOnce(location.entryKey, refresh, policy);
      return this.stale(config, graced, 'stale-while-revalidate');
    }
    const concurrent = this.flights.join(location.entryKey);
    const production = concurrent
      ? this.joinFlight(config, location, concurrent, compute, call)
      : this.computeAndStore(config, location, lookup, compute, call);
    if (!graced && policy.hardTimeoutMs === 0) return production;
    const outcome = await this.failSafe.within(
      production,
      graced ? policy.softTimeoutMs : policy.hardTimeoutMs,
    );
    if (outcome.state === 'done') return outcome.value;
    if (outcome.state === 'failed') {
      if (!graced || isClientError(outcome.error)) throw outcome.error;
      this.failSafe.backOff(location.entryKey, policy);
      return this.stale(config, graced, 'error');
    }
    this.failSafe.finishInBackground(location.entryKey, production, policy);
    if (graced) return this.stale(config, graced, 'timeout');
    throw new CacheTimeoutError(
      `namespace '${config.name}': compute took longer than ${policy.hardTimeoutMs} ms`,
    );
  }

  /**
   * Leads a flight: takes the fleet lease (or waits for the instance holding it and takes its fill), runs
   * `compute`, stores its value under the lookup's generations, shares the outcome, then releases the lease.
   */
  private async computeAndStore<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    lookup: MissOrBypass,
    compute: () => T | Promise<T>,
    call: WrapCall,
    fleetWaitMs = this.leases.waitMs,
  ): Promise<T> {
    const lead = this.flights.lead(location, lookup.snapshot);
    const turn = await this.leases.turn(location, lookup, fleetWaitMs);
    if (turn.kind === 'filled') {
      const found = await this.values.unpack(config, turn.entry);
      if (found) {
        const packed = { tag: turn.entry.contentType, body: asBuffer(turn.entry.body) };
        lead.resolve({ value: found.value, packed });
        return found.value;
      }
    }
    if (turn.kind === 'skip') {
      lead.resolve(undefined);
      return undefined as T;
    }
    const lease = turn.kind === 'compute' ? turn.lease : undefined;
    let value: T;
    try {
      value = await compute();
    } catch (error) {
      lease?.release();
      lead.reject(error);
      throw error;
    }
    const packed = await this.values.pack(config, location, value);
    if (packed) {
      const lifetime = { ttlMs: call.ttlMs, graceMs: call.policy.graceMs };
      const response = { etag: '', contentType: packed.tag, body: packed.body };
      void this.tiers.fill(location, lookup, response, lifetime).then(() => lease?.release());
      if (lookup.kind === 'miss') location.stats.record('set');
    } else {
      lease?.release();
    }
    lead.resolve({ value, packed });
    return value;
  }

  /** The graced value that could stand in: from the read, or from L1 (Redis away); never an invalidated one. */
  private async gracedValue<T>(config: NamespaceConfig<T>, location: EntryLocation, lookup: MissOrBypass) {
    const graced =
      (lookup.kind === 'miss' ? lookup.graced : undefined) ?? this.tiers.readLocalGraced(location);
    return graced && (await this.values.unpack(config, graced));
  }

  private stale<T>(config: NamespaceConfig<T>, graced: { value: T }, reason: StaleReason): T {
    this.failSafe.served(config.stats, config.name, reason);
    return graced.value;
  }

  /** Waits for the flight another caller leads; runs `compute` itself if that flight ran nothing. */
  private async joinFlight<T>(
    config: NamespaceConfig<T>,
    location: EntryLocation,
    flight: Promise<ValueOutcome>,
    compute: () => T | Promise<T>,
    call: WrapCall,
  ): Promise<T> {
    location.stats.record('singleFlightJoin');
    const outcome = await flight;
    if (!outcome) return this.wrap(config, location, compute, call);
    const { value, packed } = outcome;
    if (!packed) return value as T;
    // Each caller gets a copy of its own, as from the cache: nobody can mutate another caller's value.
    const copy = await this.values.unpack(config, { contentType: packed.tag, body: packed.body });
    return (copy ? copy.value : value) as T;
  }
}

function asBuffer(body: string | Buffer): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
}
