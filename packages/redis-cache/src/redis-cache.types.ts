import type { PipeTransform } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Ttl } from './keys/ttl.util.js';

export interface RedisCacheModuleOptions {
  /** `redis://` or `rediss://`; unset keeps every entry in process memory, with the same behaviour otherwise. */
  url?: string;
  /** PEM file of the CA that signed the Redis server's certificate, for `rediss://`. */
  tlsCaFile?: string;
  /** Namespace of every physical key, e.g. `'jobboard:'` (a trailing `:` is added when missing). */
  prefix: string;
  /** One budget for the Redis reads on a request's path (default 150 ms); past it the request is served uncached. */
  opTimeoutMs?: number;
  /** Scopes every key by tenant: two tenants never share an entry or a generation counter. */
  tenantResolver?: (request: FastifyRequest) => string | undefined;
  /**
   * Validates and transforms route params and query before a lookup, so the key is built from the same DTO the
   * handler receives (defaults applied) and an invalid request fails the same way warm or cold. Pass the app's
   * global ValidationPipe; default: a ValidationPipe with `transform`, `whitelist` and `forbidNonWhitelisted`.
   */
  argumentPipe?: PipeTransform;
  /**
   * The in-process tier in front of Redis (ARCHITECTURE.md §5): at most `maxEntries` entries (default 10,000) and
   * `maxBytes` bytes (default 64 MiB); `ttlMs` (default 5,000) is how long an entry may be served without the
   * invalidation bus vouching for it, which bounds staleness between instances when Redis or the bus is away.
   * Without `url` the memory store itself is bounded by `maxEntries` and `maxBytes`. `maxEntries: 0` or `ttlMs: 0`
   * turns the tier off.
   */
  l1?: { maxEntries?: number; maxBytes?: number; ttlMs?: number };
  /** Responses larger than this are sent but not stored (default 1 MiB). */
  maxEntryBytes?: number;
  /**
   * Answers hits on cached routes that have no guard from a Fastify `preHandler` hook, before Nest's pipeline
   * (about half the CPU of a hit). CORS, request ids, request logging and the 304 hook still run; app-global guards
   * and interceptors do not, for those hits only. Misses, guarded routes and invalid requests take the normal path.
   */
  fastHits?: boolean;
  /** `false` turns both decorators into pass-throughs (patterns are still validated): for comparisons and triage. */
  enabled?: boolean;
}

export interface CachedOptions {
  /**
   * `'public'` declares that a route behind an auth guard answers the same to everyone, so its key needs no
   * `{user.id}`. Without it such a route must key on the viewer (startup fails otherwise).
   */
  scope?: 'public' | 'viewer';
}

export interface CachedMetadata {
  ttl: Ttl;
  pattern: string;
  options: CachedOptions;
}

export interface InvalidatesMetadata {
  prefixes: string[];
}
