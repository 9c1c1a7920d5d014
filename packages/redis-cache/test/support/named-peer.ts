import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CacheStatus, RedisCacheModuleOptions } from '../../src/index.js';

const PEER = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/named-peer/peer.mjs');

/** Another instance in another OS process (the built package: dist/ must exist), driven over IPC. */
export class NamedPeer {
  private next = 0;
  private readonly waiting = new Map<number, (reply: { result?: unknown; error?: string }) => void>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
      if (message.id === undefined) return;
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }

  static async start(options: RedisCacheModuleOptions): Promise<NamedPeer> {
    const child = fork(PEER, [JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(() => [undefined]),
    ])) as [{ ready?: boolean } | undefined];
    if (!ready?.ready) throw new Error('the peer process did not start');
    return new NamedPeer(child);
  }

  private call(message: Record<string, unknown>): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply.result)));
      this.child.send({ id, ...message });
    });
  }

  async get(namespace: string, key: string): Promise<unknown> {
    return (await this.call({ op: 'get', namespace, key })) ?? undefined;
  }

  /** `wrap(key)` with a compute that takes `ms`; resolves once the peer's compute started (then it holds the lease). */
  async slowWrap(namespace: string, key: string, ms: number, result: unknown): Promise<void> {
    const started = new Promise<void>((resolve) => {
      const listener = (message: { event?: string; key?: string }) => {
        if (message.event !== 'computing' || message.key !== key) return;
        this.child.off('message', listener);
        resolve();
      };
      this.child.on('message', listener);
    });
    void this.call({ op: 'slowWrap', namespace, key, value: { ms, result } }).catch(() => undefined);
    await started;
  }

  /** SIGKILL: no shutdown hook runs, no lease is released. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  status(): Promise<CacheStatus> {
    return this.call({ op: 'status' }) as Promise<CacheStatus>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.call({ op: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
