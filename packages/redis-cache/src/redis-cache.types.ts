import type { PipeTransform } from '@nestjs/common';
import type { Ttl } from './keys/ttl.util.js';
import type { CacheTotals, NamedCounters, PrefixCounters } from './observability/cache-counters.js';
import type { CircuitState } from './resilience/circuit-breaker.js';

/** A request as both Fastify and Express hand it to Nest: what a tenant resolver may read. */
export interface CacheRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  params?: unknown;
  query?: unknown;
  /** Set by auth guards (`request.user.id` is the viewer of `{user.id}`). */
  user?: unknown;
}

/**
 * What stands in when a fresh answer fails or is late (ARCHITECTURE.md §11). Durations use the TTL grammar
 * (seconds, or `'300ms'`, `'30s'`, `'1h'`); `0` turns one off.
 */
export interface FailSafeOptions {
  /**
   * How long an entry is kept after its TTL (Redis keeps it `ttl + grace`), to answer in place of a failed or late
   * fresh one: `X-Cache: STALE`, with an `Age`. Never after an invalidation. Default 0: no grace.
   */
  grace?: Ttl | 0;
  /** Answer a graced entry at once (`STALE`) and refresh it in the background, one refresh per key at a time. */
  staleWhileRevalidate?: boolean;
  /** With a graced entry: how long to wait for the fresh answer before answering the graced one instead. */
  softTimeout?: Ttl | 0;
  /** Without a graced entry: how long a request waits for its handler before a 503 (the handler is not cancelled). */
  hardTimeout?: Ttl | 0;
  /** After a failure, how long the key answers its graced entry without trying again (default 10 s). */
  graceBackoff?: Ttl | 0;
}

/** Redis Sentinel: where the sentinels are, which master they watch, and the credentials of both. */
export interface SentinelConnectionOptions {
  sentinels: { host: string; port: number }[];
  /** The name the sentinels monitor the master under (`sentinel monitor <name> ...`). */
  masterName: string;
  /** The data nodes' ACL user and password. */
  username?: string;
  password?: string;
  /** The sentinels' own password (`requirepass` in their config), when they have one. */
  sentinelPassword?: string;
  /** TLS to the data nodes and the sentinels (with `tlsCaFile` for a private CA). */
  tls?: boolean;
}

/**
 * Redis Cluster: seed nodes as `redis://` or `rediss://` URLs (credentials in the URLs, the same on every node).
 * The client learns the other nodes and the slot map from them.
 */
export interface ClusterConnectionOptions {
  nodes: string[];
}

/** Which kind of Redis the module speaks to; `memory` without any. */
export type RedisTopologyKind = 'standalone' | 'cluster' | 'sentinel' | 'memory';

export interface RedisCacheModuleOptions {
  /** `redis://` or `rediss://`; unset keeps every entry in process memory, with the same behaviour otherwise. */
  url?: string;
  /**
   * Redis Sentinel instead of `url` (at most one of the two): the client follows the master the sentinels name,
   * every invalidation waits for a replica, and a master change is treated as unknown history.
   */
  sentinel?: SentinelConnectionOptions;
  /**
   * Redis Cluster instead of `url` (at most one of `url`, `sentinel`, `cluster`): generation counters and the bus
   * share one hash tag, entries spread over the masters (README: "Topologies"); invalidations wait for a replica.
   */
  cluster?: ClusterConnectionOptions;
  /** PEM file of the CA that signed the Redis server's certificate, for `rediss://`. */
  tlsCaFile?: string;
  /** Namespace of every physical key, e.g. `'jobboard:'` (a trailing `:` is added when missing). */
  prefix: string;
  /** One budget for the Redis reads on a request's path (default 150 ms); past it the request is served uncached. */
  opTimeoutMs?: number;
  /**
   * Scopes every key by tenant: two tenants never share an entry or a generation counter. Receives the platform's
   * request (Fastify's or Express's), after guards ran.
   */
  tenantResolver?(request: CacheRequest): string | undefined;
  /**
   * Validates and transforms route params and query before a lookup. By default the lookup runs exactly the pipes
   * the handler will run (app-global, controller, method and parameter pipes, in Nest's order), so adding @Cached
   * changes no status code and the key is built from the values the handler receives. Given, this pipe runs instead.
   */
  argumentPipe?: PipeTransform;
  /**
   * The in-process tier in front of Redis: at most `maxEntries` entries (default 10,000) and `maxBytes` bytes
   * (default 64 MiB); `ttlMs` (default 5,000) is how long an entry may be served without the invalidation bus
   * vouching for it, which bounds staleness between instances when Redis or the bus is away. Without `url` the
   * memory store itself is bounded by `maxEntries` and `maxBytes`. `maxEntries: 0` or `ttlMs: 0` turns the tier off.
   */
  l1?: { maxEntries?: number; maxBytes?: number; ttlMs?: number };
  /** Responses larger than this are sent but not stored (default 1 MiB). */
  maxEntryBytes?: number;
  /**
   * Route responses larger than this many bytes are stored gzip-compressed, once, at fill (default 1024; `false`:
   * never). A hit then sends the stored bytes with `Content-Encoding: gzip` to a client that accepts gzip, and plain
   * bytes (decompressed once per ETag) to one that does not; every answer of a cached route says
   * `Vary: Accept-Encoding`, and the compressed representation has its own ETag (`"<etag>-gzip"`).
   */
  compressAbove?: number | false;
  /**
   * Fastify only (start-up fails on Express): answers hits on cached routes that have no guard from a Fastify
   * `preHandler` hook, before Nest's pipeline (about half the CPU of a hit). CORS, request ids, request logging and
   * conditional GET still apply; app-global guards and interceptors do not, for those hits only. Misses, guarded
   * routes and invalid requests take the normal path. Enable it only where every unguarded cached route is public.
   */
  fastHits?: boolean;
  /** `false` turns both decorators into pass-throughs (patterns are still validated): for comparisons and triage. */
  enabled?: boolean;
  /** Fail-safe defaults of every @Cached route and method (each can override them): see {@link FailSafeOptions}. */
  failSafe?: FailSafeOptions;
  /**
   * Fleet-wide single-flight: a miss takes a lease in Redis for `leaseMs` (default 3,000, renewed while its handler
   * runs), so that concurrent misses of one key on every instance run the handler once; the others wait for the
   * fill at most `waitMs` (default 5,000), then run it themselves; a request's own `softTimeout` or `hardTimeout`
   * still bounds what its caller waits. Without Redis, or with `enabled: false`, single-flight is per process.
   */
  fleetSingleFlight?: { enabled?: boolean; leaseMs?: number; waitMs?: number };
  /**
   * Where an invalidation this instance could not make in Redis is recorded durably before the write's response
   * (typically a table in the app's database), and from where every instance's relay applies it as soon as it can
   * reach Redis. Without it, such an invalidation waits in this process's memory only.
   */
  outbox?: InvalidationOutbox;
}

/** One recorded invalidation: the generation keys to bump. */
export interface OutboxRecord {
  id: string;
  generationKeys: string[];
  /** When it was recorded (epoch ms). */
  recordedAt: number;
}

/**
 * The durable side of invalidation (module option `outbox`): implement it on your database. Every instance runs a
 * relay that claims records, bumps their keys in Redis and completes them; a claim expires, so a relay that dies
 * mid-way leaves its records to the next one.
 */
export interface InvalidationOutbox {
  /** Stores generation keys to bump; resolves once they are durable. */
  record(generationKeys: string[]): Promise<void>;
  /** Takes up to `limit` unclaimed (or expired-claim) records for `claimMs`, so that other relays skip them. */
  claim(limit: number, claimMs: number): Promise<OutboxRecord[]>;
  /** Removes applied records (nothing is kept once applied). */
  complete(ids: string[]): Promise<void>;
  /** Gives claimed records back at once (the relay could not apply them), for another relay to take. */
  release(ids: string[]): Promise<void>;
  /** Records waiting, and the age of the oldest in ms (null when none). */
  depth(): Promise<{ records: number; oldestAgeMs: number | null }>;
  /** Optional: calls `onRecord` soon after any instance records (e.g. LISTEN/NOTIFY); polling is the backstop. */
  subscribe?(onRecord: () => void): Promise<() => Promise<void>>;
}

/** {@link CacheStats.outbox}: how the durable invalidations are doing, as this instance last saw them. */
export interface OutboxStats {
  /** Records waiting in the outbox (all instances'), as of the relay's last look. */
  depth: number;
  oldestAgeMs: number | null;
  /** Invalidations this instance recorded because it could not reach Redis. */
  recorded: number;
  /** Records this instance's relay applied, and the delay between recording and applying the last of them. */
  applied: number;
  lastLagMs: number | null;
  maxLagMs: number | null;
  /** Records this instance could not store in the outbox either (they stay in memory and are retried). */
  recordFailures: number;
}

/**
 * Decides per request whether a route keyed on `{user.id}` answers this request the same to everyone: from the
 * validated route params and query (e.g. a feed that depends on the viewer only with `following=true`).
 */
export type ViewerScope = (request: {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
}) => 'public' | 'viewer';

export interface CachedOptions extends FailSafeOptions {
  /**
   * `'public'` declares that a route behind an auth guard answers the same to everyone, so its key needs no
   * `{user.id}`. Without it such a route must key on the viewer (start-up fails otherwise). A function
   * ({@link ViewerScope}) decides per request, for a pattern with `{user.id}`: where it says `'public'`, every
   * viewer shares the anonymous viewer's entry (one entry instead of one per viewer); where it says `'viewer'` or
   * throws, the key is the viewer's own. Headers stay those of a per-viewer route (`private`, `Vary: Authorization`).
   */
  scope?: 'public' | 'viewer' | ViewerScope;
  /** On a provider method: the namespace of its values (default `<Class>.<method>`), for stats and `clear()`. */
  namespace?: string;
  /** On a provider method: argument positions the key deliberately leaves out (a logger, a transaction). */
  ignore?: number[];
}

export interface CachedMetadata {
  ttl: Ttl;
  pattern: string;
  options: CachedOptions;
}

export interface InvalidatesMetadata {
  prefixes: string[];
}

/** Where reads are served from: Redis, or process memory (L1, or the memory store without `url`). */
export type CacheBackend = 'redis' | 'memory';

/** The Redis connection: `disabled` when no `url` is configured. */
export type RedisState = 'up' | 'down' | 'disabled';

export type { CircuitState };

/** {@link RedisCacheService.status}: touches no network. */
export interface CacheStatus {
  backend: CacheBackend;
  redis: RedisState;
  circuit: CircuitState;
}

/** {@link RedisCacheService.health}: what `/health/cache` reports. */
export interface CacheHealth extends CacheStatus {
  /** `standalone`, `cluster`, `sentinel`, or `memory` without Redis. */
  topology: RedisTopologyKind;
  /** Sentinel: the current master's `host:port` (never credentials). */
  master?: string;
  /** Cluster: masters whose connection is ready, out of the masters the slot map names. */
  mastersUp?: number;
  mastersKnown?: number;
  /** Answers given from graced entries (fail-safe), since start. */
  staleServed: number;
  /** Round trip of a PING under the deadline; null when none answered in time. */
  latencyMs: number | null;
  hits: number;
  misses: number;
  hitRatePercent: number | null;
  l1Entries: number;
}

/** {@link RedisCacheService.stats}: numbers only, never a key name or a cached value. */
export interface CacheStats {
  backend: 'redis' | 'memory';
  circuit: { state: CircuitState; timeOpenMs: number };
  totals: CacheTotals;
  /** By route prefix (`jobs:list`): bounded by the number of @Cached routes. */
  prefixes: Record<string, PrefixCounters>;
  /** By namespace: named caches by their names, decorated provider methods as `<Class>.<method>`. */
  namespaces: Record<string, NamedCounters>;
  l1: { entries: number; bytes: number };
  /** Present when the module has an `outbox`. */
  outbox?: OutboxStats;
  /** The Redis topology, its current master (Sentinel) and the master changes seen since start. */
  topology: { kind: RedisTopologyKind; master?: string; failovers: number };
}

/** How one Redis call ended: answered, failed, past the deadline, or skipped because the circuit was open. */
export type L2Outcome = 'ok' | 'error' | 'timeout' | 'skipped';

/** What {@link RedisCacheService.on} can listen to, and what each listener receives. */
export interface RedisCacheEvents {
  /** Every Redis call on a request's path or for an invalidation (a latency histogram's input). */
  'l2-call': { durationMs: number; outcome: L2Outcome };
  /** The circuit breaker around Redis changed state. */
  circuit: { state: CircuitState };
  /** A graced entry was answered in place of a fresh one: why, and for which route prefix or namespace. */
  'stale-served': { name: string; reason: StaleReason };
}

/** Why a graced entry stood in: the fresh answer failed, was late, is in back-off after a failure, or is refreshing. */
export type StaleReason = 'error' | 'timeout' | 'backoff' | 'stale-while-revalidate';
