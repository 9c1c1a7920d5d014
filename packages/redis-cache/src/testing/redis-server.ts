import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createClient, type RedisClientOptions } from '@redis/client';
import type { RedisClient as RedisClientType } from '../storage/redis-client.factory.js';
import { freePort } from './free-port.js';
import type { TlsFiles } from './tls-certs.js';
import { APP_PASSWORD, APP_USER, HARNESS_PASSWORD, aclArguments } from './acl.js';

export interface TestRedisOptions {
  /** Serve TLS only (`rediss://`), with this server certificate; the harness trusts its CA. */
  tls?: TlsFiles;
  /** The default user's password (`requirepass`, or set in an ACL), which the harness's own connections use. */
  adminPassword?: string;
  /**
   * Gives the app an ACL user of its own, limited as in production (ARCHITECTURE.md §7): keys and channels under
   * `prefix` only, every command but the dangerous ones. {@link TestRedisServer.url} then carries that user; the
   * harness keeps the default user (with a password) for CONFIG, DEBUG, CLIENT and INFO.
   */
  appUser?: { prefix: string };
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type HarnessOptions = RedisClientOptions<{}, {}, {}, 2>;

/**
 * A redis-server of the test's own on a free loopback port, so that the test can kill, freeze and restart it
 * without touching the shared local Redis. Nothing is persisted.
 */
export class TestRedisServer {
  private process: ChildProcess | undefined;
  private admin: RedisClientType | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
    private readonly options: TestRedisOptions,
  ) {}

  static async start(extraArgs: string[] = [], options: TestRedisOptions = {}): Promise<TestRedisServer> {
    if (options.appUser) {
      const { prefix } = options.appUser;
      extraArgs = [...extraArgs, ...aclArguments(prefix)];
      options = { ...options, adminPassword: HARNESS_PASSWORD };
    }
    const server = new TestRedisServer(await freePort(), extraArgs, options);
    await server.launch();
    return server;
  }

  /** What the app connects with: as the limited ACL user when there is one. */
  get url(): string {
    const credentials = this.options.appUser ? `${APP_USER}:${APP_PASSWORD}@` : '';
    return `${this.options.tls ? 'rediss' : 'redis'}://${credentials}127.0.0.1:${this.port}`;
  }

  /** The redis-server process's id while it runs (a benchmark reads its CPU time from /proc). */
  get pid(): number | undefined {
    return this.process?.exitCode === null ? this.process.pid : undefined;
  }

  private get harnessUrl(): string {
    return `${this.options.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  /** Redis's log of commands and keys it refused to ACL users since the start (empty when all were allowed). */
  async aclDenials(): Promise<unknown[]> {
    return (await (await this.client()).sendCommand(['ACL', 'LOG'])) as unknown[];
  }

  /** How the harness connects: TLS trusting the test CA, and the admin password when one is set. */
  private clientOptions(socket: { reconnectStrategy: false; connectTimeout?: number }): HarnessOptions {
    const tls = this.options.tls ? { tls: true as const, ca: readFileSync(this.options.tls.caFile) } : {};
    return {
      url: this.harnessUrl,
      RESP: 2,
      password: this.options.adminPassword,
      socket: { ...socket, ...tls },
    };
  }

  /** A connection of the harness's own (not the app's), for INFO, PTTL, DEBUG and friends. */
  async client(): Promise<RedisClientType> {
    if (!this.admin?.isReady) {
      this.admin = createClient(this.clientOptions({ reconnectStrategy: false })) as RedisClientType;
      this.admin.on('error', () => undefined);
      await this.admin.connect();
    }
    return this.admin;
  }

  /** Starts (or restarts on the same port) and waits until it answers PING. */
  async launch(): Promise<void> {
    this.process = spawn(
      'redis-server',
      [
        ...(this.options.tls
          ? [
              '--port',
              '0',
              '--tls-port',
              String(this.port),
              '--tls-cert-file',
              this.options.tls.certFile,
              '--tls-key-file',
              this.options.tls.keyFile,
              '--tls-ca-cert-file',
              this.options.tls.caFile,
              '--tls-auth-clients',
              'no',
            ]
          : ['--port', String(this.port)]),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        ...this.extraArgs,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 5_000;
    for (;;) {
      const probe = createClient(this.clientOptions({ reconnectStrategy: false, connectTimeout: 200 }));
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        await probe.quit();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }

  /** SIGKILL: the crash case. */
  async kill(): Promise<void> {
    await this.closeAdmin();
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.kill();
  }

  private async closeAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin?.isOpen) admin.destroy();
  }
}

/** Calls per command name since the last CONFIG RESETSTAT, from INFO commandstats. */
export async function commandCounts(client: RedisClientType): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) counts[match[1]] = Number(match[2]);
  return counts;
}
