import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeySpace } from '../keys/key-space.js';
import { CacheCounters } from '../observability/cache-counters.js';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.module-definition.js';
import type { RedisCacheModuleOptions } from '../redis-cache.types.js';
import { RedisGateway } from '../resilience/redis-gateway.js';
import type { CacheEntry } from '../storage/cache-entry.js';
import type { EntryLocation } from '../storage/entry-store.js';
import { RedisTopology } from '../storage/redis-topology.js';
import { TieredCache, type MissOrBypass } from './tiered-cache.js';

export const DEFAULT_LEASE_MS = 3_000;
export const DEFAULT_LEASE_WAIT_MS = 5_000;
/** Between two looks at the entry and the lease while another instance computes: jittered, so waiters spread. */
const POLL_MIN_MS = 15;
const POLL_JITTER_MS = 20;

// Extends the lease only while this holder still owns it (a lease that expired may belong to someone else now).
const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
// Compare-and-delete: never removes a lease another instance took after this one's expired.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** A lease this instance holds: renewed while its handler runs, released once the fill landed (or it failed). */
export interface HeldLease {
  release(): void;
}

/**
 * What a miss should do, fleet-wide: compute (holding the lease, or without one when Redis cannot arbitrate), take
 * the entry another instance filled meanwhile, or, for a background refresh that must not wait, skip.
 */
export type FleetTurn =
  | { kind: 'compute'; lease: HeldLease | undefined }
  | { kind: 'filled'; entry: CacheEntry }
  | { kind: 'skip' };

/**
 * Fleet-wide single-flight (ARCHITECTURE.md §11): the first instance to miss a key takes a short lease in Redis
 * (`SET NX PX`, a random token), scoped to the key and the generations it read, so a bump during the flight opens a
 * new lease rather than making post-bump requests wait for pre-bump data. The others look at the entry and the lease
 * every 15-35 ms, take the fill when it lands under the current generations, take over when the lease vanishes
 * without one (its holder died: within one lease), and compute themselves when their wait runs out. Redis down or
 * the circuit open: per-process single-flight only, at no cost. Within a process only the local flight's leader
 * does any of this; the requests that joined it wait for it.
 */
@Injectable()
export class FleetLeases implements OnModuleDestroy {
  readonly enabled: boolean;
  readonly leaseMs: number;
  readonly waitMs: number;
  private readonly held = new Set<NodeJS.Timeout>();

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) options: RedisCacheModuleOptions,
    private readonly gateway: RedisGateway,
    private readonly tiers: TieredCache,
    private readonly keys: KeySpace,
    private readonly counters: CacheCounters,
    private readonly topology: RedisTopology,
  ) {
    const fleet = options.fleetSingleFlight;
    this.leaseMs = fleet?.leaseMs ?? DEFAULT_LEASE_MS;
    this.waitMs = fleet?.waitMs ?? DEFAULT_LEASE_WAIT_MS;
    this.enabled = Boolean(gateway.client) && fleet?.enabled !== false && this.leaseMs > 0;
  }

  /**
   * Takes the lease for a miss, or waits for whoever holds it, for at most `waitMs` (0: never wait, skip instead).
   * Never rejects: any Redis trouble means "compute without a lease".
   */
  async turn(location: EntryLocation, lookup: MissOrBypass, waitMs: number): Promise<FleetTurn> {
    if (!this.enabled || lookup.kind !== 'miss') return { kind: 'compute', lease: undefined };
    const leaseKey = this.keys.lease(location.entryKey, lookup.generations);
    const token = randomUUID();
    const deadline = performance.now() + waitMs;
    let waited = false;
    try {
      for (;;) {
        // The entry is looked at again behind the SET, on the same connection: a holder that filled and released
        // between this miss's read and its SET left the entry there, so it is taken instead of computed again.
        const [won, looked] = await Promise.all([
          this.gateway.read(() =>
            this.client.set(leaseKey, token, {
              condition: 'NX',
              expiration: { type: 'PX', value: this.leaseMs },
            }),
          ),
          this.tiers.peek(location).catch(() => undefined),
        ]);
        let filled =
          looked?.entry && sameGenerations(looked.current, lookup.generations) ? looked.entry : undefined;
        // On Cluster the lease and the entry live on different masters, so the look above may have been answered
        // before a fill that preceded the lease's release: look once more, now that the lease is ours.
        if (won === 'OK' && !filled && this.topology.kind === 'cluster') {
          const again = await this.tiers.peek(location).catch(() => undefined);
          if (again?.entry && sameGenerations(again.current, lookup.generations)) filled = again.entry;
        }
        if (won === 'OK') {
          const lease = this.hold(leaseKey, token);
          if (filled) {
            lease.release();
            return { kind: 'filled', entry: filled };
          }
          this.counters.countTotal('leasesWon');
          return { kind: 'compute', lease };
        }
        if (filled) return { kind: 'filled', entry: filled };
        if (waitMs <= 0) return { kind: 'skip' };
        if (!waited) this.counters.countTotal('leasesWaited');
        waited = true;
        const seen = await this.waitForFill(location, lookup.generations, leaseKey, deadline);
        if (seen.kind === 'filled') return seen;
        if (seen.kind === 'gone') continue; // its holder released or died without a fill: take it over
        this.counters.countTotal('leasesExpired');
        return { kind: 'compute', lease: undefined };
      }
    } catch {
      // The gateway counted and logged it; a miss is never failed by the lease.
      return { kind: 'compute', lease: undefined };
    }
  }

  onModuleDestroy(): void {
    for (const timer of this.held) clearInterval(timer);
    this.held.clear();
  }

  private get client() {
    return this.gateway.client!;
  }

  /** Polls until the fill lands (under the current generations), the lease is gone, or the deadline passes. */
  private async waitForFill(
    location: EntryLocation,
    generations: string[],
    leaseKey: string,
    deadline: number,
  ): Promise<{ kind: 'filled'; entry: CacheEntry } | { kind: 'gone' } | { kind: 'timeout' }> {
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return { kind: 'timeout' };
      await sleep(Math.min(left, POLL_MIN_MS + Math.random() * POLL_JITTER_MS));
      const [read, lease] = await Promise.all([
        this.tiers.peek(location),
        this.gateway.read(() => this.client.exists(leaseKey)),
      ]);
      // A bump since this miss read its generations: the flight it waits for fills an entry nobody may serve.
      if (!sameGenerations(read.current, generations)) return { kind: 'timeout' };
      if (read.entry) return { kind: 'filled', entry: read.entry };
      if (lease === 0) return { kind: 'gone' };
    }
  }

  private hold(leaseKey: string, token: string): HeldLease {
    const renew = setInterval(
      () => {
        void this.gateway.background(
          'lease renewal',
          () =>
            this.client.eval(RENEW_SCRIPT, { keys: [leaseKey], arguments: [token, String(this.leaseMs)] }),
          () => undefined,
        );
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    this.held.add(renew);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        this.held.delete(renew);
        void this.gateway.background(
          'lease release',
          () => this.client.eval(RELEASE_SCRIPT, { keys: [leaseKey], arguments: [token] }),
          () => undefined,
        );
      },
    };
  }
}

function sameGenerations(current: readonly (string | null)[], generations: readonly string[]): boolean {
  return current.length === generations.length && current.every((value, i) => value === generations[i]);
}
