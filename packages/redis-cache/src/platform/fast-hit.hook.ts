import type { CacheRegistry } from '../decorators/cache-registry.js';
import type { CacheLookup } from '../tiers/cache-lookup.js';
import type { FastifyInstanceLike } from './fastify.platform.js';
import type { HttpPlatform } from './http-platform.js';
import { prepareStoredResponse } from './stored-response.js';

/**
 * The fast hit path (option `fastHits`, Fastify only): for a GET or HEAD on an unguarded cached route, looks the
 * entry up in a Fastify `preHandler` hook and, on a hit, sends the stored bytes from there. Anything else (a miss, a
 * bypass, an invalid request, a query parameter the key does not name) continues to Nest's pipeline, which reuses
 * the lookup and produces exactly the normal response. Routes are recognised by Fastify's own route identity once
 * Nest has served one request there, so global prefixes, exclusions and versioning need no special handling.
 */
export function registerFastHits(
  fastify: FastifyInstanceLike,
  platform: HttpPlatform,
  registry: CacheRegistry,
  lookups: CacheLookup,
): void {
  fastify.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return done();
    const plan = registry.unguardedPlan(platform.routeOf(request));
    if (!plan) return done();
    const query = (request.query ?? {}) as Record<string, unknown>;
    for (const name in query) if (!plan.keyedQuery.has(name)) return done();
    // Decide after the I/O already due (an invalidation message may be waiting behind this request): see
    // afterPendingIo. A hot key then answers with no promise: its location is memoised and its bytes are in L1.
    setImmediate(() => {
      const local = lookups.localHit(plan, request);
      if (local) {
        // Replying from a callback-style hook: done() must not be called.
        void reply.send(prepareStoredResponse(platform, request, reply, plan, local));
        return;
      }
      lookups.lookup(plan, request, true).then(
        (found) => {
          if (found.lookup.kind !== 'hit') return done();
          void reply.send(prepareStoredResponse(platform, request, reply, plan, found.lookup.entry));
        },
        // Invalid input: Nest's pipeline answers it, with the same 400 as a cold request.
        () => done(),
      );
    });
  });
}
