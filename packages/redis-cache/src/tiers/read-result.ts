import type { GracedResponse, StoredResponse } from '../storage/cache-entry.js';

/** When a lookup started: what a fill after it is checked against (the invalidation ledger, L1's clock). */
export interface LookupStart {
  snapshot: number;
  verifiedAt: number;
}

export type BypassReason =
  | 'unavailable'
  | 'timeout'
  | 'circuit-open'
  | 'generation-missing'
  | 'invalidation-pending'
  | 'unkeyed-query';

export type ReadResult =
  | { kind: 'hit'; tier: 'l1' | 'l2'; entry: StoredResponse }
  /**
   * Not usable from the cache; `generations` are the values to fill under, read before the handler runs. `graced`:
   * the entry past its TTL but within its grace, which may stand in if the fresh answer fails (fail-safe).
   */
  | ({ kind: 'miss'; generations: string[]; graced?: GracedResponse } & LookupStart)
  /** The cache cannot be trusted or reached for this key right now: serve without reading or filling it. */
  | ({ kind: 'bypass'; reason: BypassReason } & LookupStart);

export type MissOrBypass = Exclude<ReadResult, { kind: 'hit' }>;

/** How long a fill lives: fresh for `ttlMs`, then graced for `graceMs` more (Redis keeps it for both). */
export interface Lifetime {
  ttlMs: number;
  graceMs: number;
}
