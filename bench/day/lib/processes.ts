// The processes of a day's run: its own redis-server, the app instances of each mode (the built dist/main.js or a
// peer's entry), a node:http ceiling, and the cleanup that stops all of them however the run ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { TestRedisServer } from '@jobboard/redis-cache/testing';
import { freePort, spawnApp, type SpawnedApp } from '../../../scripts/app-cluster.mjs';
import { cpuMicros } from '../../lib.mjs';

export const log = (...args: unknown[]) => console.log('[bench:day]', ...args);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: (() => Promise<unknown> | unknown)[] = [];

/** Registers `stop` to run at the end (last registered, first stopped). */
export function onCleanup(stop: () => Promise<unknown> | unknown): void {
  cleanups.push(stop);
}

export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()?.();
    } catch (error) {
      log('cleanup failed:', (error as Error).message);
    }
  }
}

/** The bench's own redis-server on a free loopback port (nothing persisted), stopped at the end. */
export async function startRedis(): Promise<TestRedisServer> {
  const server = await TestRedisServer.start(['--maxmemory', '1gb', '--maxmemory-policy', 'allkeys-lru']);
  onCleanup(() => server.stop());
  return server;
}

/** Instances of one mode: processes, their base URLs, and CPU time summed over them. */
export interface Instances {
  urls: string[];
  pids: number[];
  cpuMicros(): number;
  stop(): Promise<void>;
}

/** Starts `count` instances of `entry` with `env`, one after the other (so they never race on start-up work). */
export async function startInstances(
  count: number,
  env: Record<string, string>,
  entry?: string,
): Promise<Instances> {
  const apps: SpawnedApp[] = [];
  const stop = async () => {
    await Promise.all(apps.map((app) => app.stop()));
  };
  onCleanup(stop);
  for (let i = 0; i < count; i++)
    apps.push(await spawnApp(env, { timeoutMs: 90_000, entry, outputTail: 64 * 1024 }));
  const pids = apps.map((app) => app.process.pid ?? 0);
  return {
    urls: apps.map((app) => app.baseUrl),
    pids,
    cpuMicros: () => pids.reduce((sum, pid) => sum + (cpuMicros(pid) ?? 0), 0),
    stop,
  };
}

/** A node:http server answering every request with `body` and `headers`: what serving bytes costs at least. */
export async function startCeiling(body: Buffer, headers: Record<string, string>): Promise<Instances> {
  const port = await freePort();
  const source = `
    const body = Buffer.from(${JSON.stringify(body.toString('base64'))}, 'base64');
    const headers = ${JSON.stringify(headers)};
    require('node:http').createServer((req, res) => { res.writeHead(200, headers); res.end(body); })
      .listen(${port}, '127.0.0.1', () => process.send?.('ready'));`;
  const child: ChildProcess = spawn(process.execPath, ['-e', source], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  };
  onCleanup(stop);
  await once(child, 'message');
  const pid = child.pid ?? 0;
  return { urls: [`http://127.0.0.1:${port}`], pids: [pid], cpuMicros: () => cpuMicros(pid) ?? 0, stop };
}
