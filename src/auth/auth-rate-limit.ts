import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import { RedisCacheService } from '@jobboard/redis-cache';
import { HttpException, HttpStatus } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../config/app-config.js';

/** What @fastify/rate-limit hands `child()`: the route's merged limits, with the route they apply to. */
interface RouteLimits {
  routeInfo?: { method?: string | string[]; url?: string };
}

/**
 * A @fastify/rate-limit store on the cache's window counters: in Redis when it is configured, so every instance
 * counts into one window per route and client address and a restart resets nothing; in process memory while Redis
 * is away or absent (the limit then holds per instance). The address is `request.ip`, as TRUST_PROXY resolves it.
 */
function windowCounterStore(cache: RedisCacheService) {
  return class WindowCounterStore implements FastifyRateLimitStore {
    constructor(
      _globalLimits?: unknown,
      private readonly route = '',
    ) {}

    incr(
      address: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindowMs: number,
    ): void {
      cache.countInWindow(`auth:${this.route}${address}`, `${timeWindowMs}ms`).then(
        ({ count, resetInMs }) => callback(null, { current: count, ttl: resetInMs }),
        (error: Error) => callback(error),
      );
    }

    child(routeOptions: object): FastifyRateLimitStore {
      const { method = '', url = '' } = (routeOptions as RouteLimits).routeInfo ?? {};
      return new WindowCounterStore(undefined, `${String(method)}${url}:`);
    }
  };
}

/**
 * Login and register attempts per client address and window (AUTH_RATE_LIMIT_*), shared by the fleet; routes opt
 * in with `config: { rateLimit: {} }`. Over the limit: 429 in the common error shape, with Retry-After.
 */
export async function registerAuthRateLimit(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    max: config.auth.rateLimitMax,
    timeWindow: config.auth.rateLimitWindowMs,
    store: windowCounterStore(app.get(RedisCacheService, { strict: false })),
    // Thrown from a Fastify hook, it reaches Nest's exception layer and leaves in the common error shape.
    errorResponseBuilder: (_request, context) =>
      new HttpException(
        `Too many attempts; retry in ${Math.ceil(context.ttl / 1000)} s`,
        HttpStatus.TOO_MANY_REQUESTS,
      ),
  });
}
