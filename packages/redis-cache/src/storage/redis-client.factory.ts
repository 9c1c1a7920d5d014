import { createClient, type RedisClientType } from '@redis/client';
import { readFileSync } from 'node:fs';

/** RESP2, as with node-redis 5: reply shapes (arrays, not maps) stay what the store and the harness parse. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type RedisClient = RedisClientType<{}, {}, {}, 2, {}>;

/**
 * node-redis 5 gives every command a 5 s timeout by default: an AbortSignal.timeout per command, whose timer cannot
 * be cleared and fires later for every command anyway (about 5% of the CPU of a miss, measured with --cpu-prof). It
 * covers only commands not yet sent (RELIABILITY.md §1), so it bounds nothing the deadline around every call on a
 * request's path (withDeadline) and the socket timeout do not already bound.
 */
export const NO_COMMAND_TIMEOUT = { timeout: 0 };

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
export function createRedisClient(
  url: string,
  options: { tlsCaFile?: string; username?: string; password?: string; name?: string },
): RedisClient {
  const ca = options.tlsCaFile ? readFileSync(options.tlsCaFile) : undefined;
  return createClient({
    url,
    RESP: 2,
    ...(options.name ? { name: options.name } : {}),
    ...failFastConnection({ ...options, tls: ca !== undefined, ca }),
  }) as RedisClient;
}

/**
 * The fail-fast settings of every data-node connection (one server, and each node of a cluster): credentials,
 * no offline queue, a bounded command queue, pings below the socket timeout, reconnect forever, and no per-command
 * timeout (see {@link NO_COMMAND_TIMEOUT}).
 */
export function failFastConnection(options: {
  username?: string;
  password?: string;
  tls: boolean;
  ca?: Buffer;
}) {
  return {
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    disableOfflineQueue: true,
    commandsQueueMaxLength: 2_000,
    commandOptions: NO_COMMAND_TIMEOUT,
    pingInterval: 2_000,
    socket: {
      connectTimeout: 1_000,
      socketTimeout: 5_000,
      reconnectStrategy: (retries: number) => reconnectDelayMs(retries),
      ...(options.tls ? { tls: true as const, ...(options.ca ? { ca: options.ca } : {}) } : {}),
    },
  };
}
