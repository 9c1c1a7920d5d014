// What a step costs, read around it: the servers' CPU (/proc), Redis's request-path commands and keyspace hits
// (INFO), the database's transactions (pg_stat_database), and our cache's own hit counters (/cache/stats).
import pg from 'pg';
import type { Deployment, RedisAdmin } from '../../topologies.mjs';
import type { Instances } from './processes.js';

export interface Probe {
  redis: RedisAdmin;
  deployment: Deployment;
  database: pg.Client;
  databaseName: string;
  adminToken: string;
}

export interface Snapshot {
  atMs: number;
  serverCpuMicros: number;
  redisCpuMicros: number;
  keyspace: { hits: number; misses: number };
  transactions: number;
  cache: { hits: number; misses: number } | undefined;
}

export interface Costs {
  serverCpuMicros: number;
  redisCommands: number;
  redisCommandsByName: Record<string, number>;
  /** Our cache's hits and misses (L1, L2 and named caches), or, for a peer without counters, Redis's keyspace. */
  hits: number;
  misses: number;
  hitSource: 'cache stats' | 'redis keyspace' | 'none';
  databaseTransactionsPerSecond: number;
}

async function keyspace(redis: RedisAdmin) {
  const info = await redis.info('stats');
  const read = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { hits: read('keyspace_hits'), misses: read('keyspace_misses') };
}

/** Our /cache/stats totals summed over the instances; undefined for a mode whose cache has none (the peer, off). */
async function cacheTotals(instances: Instances, adminToken: string) {
  let hits = 0;
  let misses = 0;
  for (const url of instances.urls) {
    const res = await fetch(`${url}/cache/stats`, { headers: { authorization: `Bearer ${adminToken}` } });
    if (!res.ok) return undefined;
    const { totals } = (await res.json()) as { totals?: { hits: number; misses: number } };
    if (!totals) return undefined;
    hits += totals.hits;
    misses += totals.misses;
  }
  return { hits, misses };
}

export async function snapshot(probe: Probe, instances: Instances, ourCache: boolean): Promise<Snapshot> {
  // pg_stat counters reach the view when a backend is idle, at most once a second: give them that second.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const { rows } = await probe.database.query<{ n: string }>(
    'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
    [probe.databaseName],
  );
  return {
    atMs: Date.now(),
    serverCpuMicros: instances.cpuMicros(),
    redisCpuMicros: 0,
    keyspace: await keyspace(probe.redis),
    transactions: Number(rows[0]?.n ?? 0),
    cache: ourCache ? await cacheTotals(instances, probe.adminToken) : undefined,
  };
}

/** Resets Redis's command counters; call before the step and `costsSince` after it. */
export const resetRedisCounters = (probe: Probe) => probe.deployment.resetStats();

export async function costsSince(
  probe: Probe,
  before: Snapshot,
  after: Snapshot,
  loadSeconds: number,
): Promise<Costs> {
  const calls = await probe.deployment.requestCalls();
  const ours = before.cache && after.cache;
  const hits = ours ? after.cache!.hits - before.cache!.hits : after.keyspace.hits - before.keyspace.hits;
  const misses = ours
    ? after.cache!.misses - before.cache!.misses
    : after.keyspace.misses - before.keyspace.misses;
  return {
    serverCpuMicros: after.serverCpuMicros - before.serverCpuMicros,
    redisCommands: calls.calls,
    redisCommandsByName: calls.byCommand,
    hits,
    misses,
    hitSource: ours ? 'cache stats' : hits + misses > 0 ? 'redis keyspace' : 'none',
    databaseTransactionsPerSecond: (after.transactions - before.transactions) / loadSeconds,
  };
}
