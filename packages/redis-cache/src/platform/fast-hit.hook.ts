import type { FastifyInstance } from 'fastify';
import { prepareStoredResponse, type CacheLookup } from '../tiers/cache-lookup.js';
import type { CacheRegistry } from '../decorators/cache-registry.js';

/**
 * The fast hit path (option `fastHits`): for a GET on an unguarded cached route, looks the entry up in a Fastify
 * `preHandler` hook and, on a hit, sends the stored bytes from there. Anything else (a miss, a bypass, an invalid
 * request, query parameters on a route that declares none) continues to Nest's pipeline, which reuses the lookup
 * and produces exactly the normal response.
 */
export function registerFastHits(
  fastify: FastifyInstance,
  registry: CacheRegistry,
  lookups: CacheLookup,
): void {
  fastify.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'GET') return done();
    const plan = registry.unguardedPlan(request.routeOptions.url);
    if (!plan) return done();
    const declaresQuery = plan.slots.some((slot) => slot.type === 'query');
    if (!declaresQuery && Object.keys((request.query as object | undefined) ?? {}).length > 0) return done();
    // Decide after the I/O already due (an invalidation message may be waiting behind this request): see
    // afterPendingIo. A hot key then answers with no promise: its location is memoised and its bytes are in L1.
    setImmediate(() => {
      const local = lookups.localHit(plan, request);
      if (local) {
        prepareStoredResponse(reply, plan, local);
        void reply.send(local.body); // replying from a callback-style hook: done() must not be called
        return;
      }
      lookups.lookup(plan, request, true).then(
        (found) => {
          if (found.lookup.kind !== 'hit') return done();
          prepareStoredResponse(reply, plan, found.lookup.entry);
          void reply.send(found.lookup.entry.body);
        },
        // Invalid input: Nest's pipeline answers it, with the same 400 as a cold request.
        () => done(),
      );
    });
  });
}
