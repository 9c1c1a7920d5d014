import { createClient, type RedisClientType } from '@redis/client';
import { readFileSync } from 'node:fs';

export type RedisClient = RedisClientType;

/** Reconnect forever: exponential from 50 ms, capped at 2 s, with jitter so instances do not reconnect in lockstep. */
export function reconnectDelayMs(retries: number, random = Math.random): number {
  const base = Math.min(50 * 2 ** Math.min(retries, 10), 2_000);
  return Math.round(base / 2 + random() * (base / 2));
}

/**
 * Builds a node-redis client that fails fast instead of queueing (RELIABILITY.md §1): no offline queue, a bounded
 * command queue, a 1 s connect timeout, a socket timeout with pings below it, and a reconnect strategy that never
 * gives up (the default one leaves the client closed for good after a socket timeout). `connect()` is started but
 * not awaited by the caller, so start-up never waits for Redis.
 */
export function createRedisClient(url: string, options: { tlsCaFile?: string }): RedisClient {
  const ca = options.tlsCaFile ? readFileSync(options.tlsCaFile) : undefined;
  return createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: 2_000,
    pingInterval: 2_000,
    socket: {
      connectTimeout: 1_000,
      socketTimeout: 5_000,
      reconnectStrategy: (retries: number) => reconnectDelayMs(retries),
      ...(ca ? { tls: true as const, ca } : {}),
    },
  }) as RedisClient;
}
