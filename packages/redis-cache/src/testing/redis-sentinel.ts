import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import type { RedisClient as RedisClientType } from '../storage/redis-client.factory.js';
import { FaultProxy } from './fault-proxy.js';
import { freePort } from './free-port.js';
import { APP_PASSWORD, APP_USER, HARNESS_PASSWORD, aclArguments } from './acl.js';
import { tlsClientSocket, tlsServerArguments, type TlsFiles } from './tls-certs.js';

const SENTINEL_PASSWORD = 'sentinel-password';
export const TEST_SENTINEL_MASTER = 'mymaster';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Proc {
  port: number;
  process: ChildProcess;
}

/**
 * A Sentinel group of the test's own: one master, one replica and three sentinels (quorum 2), from `redis-server`
 * on free loopback ports. Data nodes have the app's ACL user (keys and channels under `prefix`) and a harness
 * user; sentinels have a password of their own. `failover()` asks for a failover and waits for the new master.
 */
export class TestRedisSentinel {
  readonly masterName = TEST_SENTINEL_MASTER;
  readonly username = APP_USER;
  readonly password = APP_PASSWORD;
  readonly sentinelPassword = SENTINEL_PASSWORD;

  private constructor(
    readonly data: Proc[],
    readonly sentinels: Proc[],
    private readonly dir: string,
    private readonly prefix: string,
    /** TLS only on every data node and sentinel (the app then sets `sentinel.tls` and trusts the CA). */
    readonly tls: TlsFiles | undefined,
  ) {}

  /** Between the first replica and the master when started with `replicaThroughProxy` (blackhole it to cut it). */
  replicationLink: FaultProxy | undefined;

  /**
   * `replicaThroughProxy`: the replica reaches the master through a {@link FaultProxy}, so that a test can hold
   * back the replication stream (a frozen replica would still find it in its socket buffer when it resumes).
   */
  static async start(options: {
    prefix: string;
    replicaThroughProxy?: boolean;
    tls?: TlsFiles;
  }): Promise<TestRedisSentinel> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
    const group = new TestRedisSentinel([], [], dir, options.prefix, options.tls);
    try {
      const masterPort = await freePort();
      group.data.push(group.spawnData(masterPort, options.prefix, undefined));
      await group.untilAnswering(masterPort, HARNESS_PASSWORD);
      const replicaPort = await freePort();
      if (options.replicaThroughProxy) group.replicationLink = await FaultProxy.start(masterPort);
      group.data.push(
        group.spawnData(replicaPort, options.prefix, group.replicationLink?.port ?? masterPort),
      );
      await group.untilAnswering(replicaPort, HARNESS_PASSWORD);
      // Sentinels learn of replicas from the master's INFO (every 10 s): the replica must be there before them.
      await group.untilReplicating(replicaPort);
      for (let i = 0; i < 3; i++) group.sentinels.push(await group.spawnSentinel(masterPort));
      for (const sentinel of group.sentinels) await group.untilAnswering(sentinel.port, SENTINEL_PASSWORD);
      await group.untilSentinelsAgree(masterPort);
      return group;
    } catch (error) {
      await group.stop();
      throw error;
    }
  }

  /** `host:port` of the sentinels, as the app is configured with them (`REDIS_SENTINELS`). */
  get sentinelAddresses(): string[] {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`);
  }

  /** The master's port as the sentinels report it now. */
  async masterPort(): Promise<number> {
    for (const sentinel of this.sentinels) {
      if (!alive(sentinel)) continue;
      try {
        const client = await this.connect(sentinel.port, SENTINEL_PASSWORD);
        try {
          const reply = (await client.sendCommand([
            'SENTINEL',
            'GET-MASTER-ADDR-BY-NAME',
            this.masterName,
          ])) as string[];
          return Number(reply[1]);
        } finally {
          client.destroy();
        }
      } catch {
        // the next sentinel
      }
    }
    throw new Error('no sentinel answers');
  }

  /** SENTINEL FAILOVER, then waits until the sentinels report the other node as master and it accepts writes. */
  async failover(timeoutMs = 20_000): Promise<number> {
    const before = await this.masterPort();
    const sentinel = await this.connect(this.sentinels[0].port, SENTINEL_PASSWORD);
    try {
      await sentinel.sendCommand(['SENTINEL', 'FAILOVER', this.masterName]);
    } finally {
      sentinel.destroy();
    }
    return this.untilNewMaster(before, timeoutMs);
  }

  /**
   * Cuts the replication link of the master on `masterPort` and keeps it cut, as TestRedisCluster's: the replica
   * gets a wrong `masterauth`, then the master drops it (CLIENT KILL TYPE replica). Returns what restores it. Unlike
   * `replicaThroughProxy` it works in any round, whichever node is master.
   */
  async detachReplicas(masterPort: number): Promise<() => Promise<void>> {
    const replicas = this.data.filter((p) => p.port !== masterPort && alive(p)).map((p) => p.port);
    const run = async (port: number, args: string[]) => {
      const client = await this.connect(port, HARNESS_PASSWORD);
      try {
        await client.sendCommand(args);
      } finally {
        client.destroy();
      }
    };
    for (const port of replicas) await run(port, ['CONFIG', 'SET', 'masterauth', 'not-the-password']);
    await run(masterPort, ['CLIENT', 'KILL', 'TYPE', 'replica']);
    return async () => {
      for (const port of replicas) await run(port, ['CONFIG', 'SET', 'masterauth', HARNESS_PASSWORD]);
    };
  }

  /**
   * Until every live sentinel lists a replica that is up and in sync (link ok), as the module counts them. The
   * sentinels refresh a replica's link from its INFO every 10 s: a resynced replica can take 20 s to show.
   */
  async untilReplicaListed(timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let seeing = 0;
      const live = this.sentinels.filter(alive);
      for (const sentinel of live) {
        const client = await this.connect(sentinel.port, SENTINEL_PASSWORD);
        try {
          const replicas = (await client.sendCommand([
            'SENTINEL',
            'REPLICAS',
            this.masterName,
          ])) as string[][];
          const healthy = replicas
            .map(pairsOf)
            .some((r) => !/s_down|o_down|disconnected/.test(r.flags) && r['master-link-status'] === 'ok');
          if (healthy) seeing++;
        } finally {
          client.destroy();
        }
      }
      if (seeing === live.length) return;
      if (Date.now() > deadline) throw new Error('the sentinels list no replica in sync');
      await sleep(100);
    }
  }

  /** Starts a killed data node again on its port; the sentinels turn it into a replica of the current master. */
  async relaunch(port: number): Promise<void> {
    const index = this.data.findIndex((p) => p.port === port);
    if (index < 0 || alive(this.data[index])) return;
    this.data[index] = this.spawnData(port, this.prefix, await this.masterPort());
    await this.untilAnswering(port, HARNESS_PASSWORD);
    await this.untilReplicating(port);
  }

  /** SIGSTOP / SIGCONT a node: a replica that stops receiving the master's stream. */
  freeze(port: number): void {
    this.data.find((p) => p.port === port)?.process.kill('SIGSTOP');
  }

  thaw(port: number): void {
    this.data.find((p) => p.port === port)?.process.kill('SIGCONT');
  }

  /** SIGKILLs the node on `port`. */
  async kill(port: number): Promise<void> {
    const node = [...this.data, ...this.sentinels].find((p) => p.port === port);
    if (!node || !alive(node)) return;
    const exited = once(node.process, 'exit');
    node.process.kill('SIGKILL');
    await exited;
  }

  /** Until the sentinels name a master other than `previous` that answers as master. */
  async untilNewMaster(previous: number, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const port = await this.masterPort();
        if (port !== previous) {
          const client = await this.connect(port, HARNESS_PASSWORD);
          try {
            if (String(await client.sendCommand(['ROLE'])).startsWith('master')) return port;
          } finally {
            client.destroy();
          }
        }
      } catch {
        // during the switch
      }
      if (Date.now() > deadline) throw new Error('no new master was promoted');
      await sleep(100);
    }
  }

  /** A harness connection to a data node (default user). */
  admin(port: number): Promise<RedisClientType> {
    return this.connect(port, HARNESS_PASSWORD);
  }

  async stop(): Promise<void> {
    for (const proc of this.data) if (alive(proc)) proc.process.kill('SIGCONT');
    await Promise.all([...this.sentinels, ...this.data].map((p) => this.kill(p.port)));
    await this.replicationLink?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawnData(port: number, prefix: string, replicaOf: number | undefined): Proc {
    const child = spawn(
      'redis-server',
      [
        ...(this.tls ? tlsServerArguments(this.tls, port) : ['--port', String(port)]),
        ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...aclArguments(prefix),
        ...['--masterauth', HARNESS_PASSWORD, '--repl-diskless-sync-delay', '0', '--dir', this.dir],
        ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
      ],
      { stdio: 'ignore' },
    );
    return { port, process: child };
  }

  private async spawnSentinel(masterPort: number): Promise<Proc> {
    const port = await freePort();
    const conf = join(this.dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        ...(this.tls
          ? [
              'port 0',
              `tls-port ${port}`,
              `tls-cert-file ${this.tls.certFile}`,
              `tls-key-file ${this.tls.keyFile}`,
              `tls-ca-cert-file ${this.tls.caFile}`,
              'tls-auth-clients no',
              'tls-replication yes',
            ]
          : [`port ${port}`]),
        'bind 127.0.0.1',
        `requirepass ${SENTINEL_PASSWORD}`,
        `sentinel monitor ${this.masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel auth-pass ${this.masterName} ${HARNESS_PASSWORD}`,
        `sentinel down-after-milliseconds ${this.masterName} 1000`,
        `sentinel failover-timeout ${this.masterName} 5000`,
        `sentinel parallel-syncs ${this.masterName} 1`,
        `sentinel sentinel-pass ${SENTINEL_PASSWORD}`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    return { port, process: child };
  }

  private async untilReplicating(replicaPort: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = await this.connect(replicaPort, HARNESS_PASSWORD);
      try {
        if ((await client.info('replication')).includes('master_link_status:up')) return;
      } finally {
        client.destroy();
      }
      if (Date.now() > deadline) throw new Error('the replica did not sync');
      await sleep(100);
    }
  }

  private async untilSentinelsAgree(masterPort: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      let agreeing = 0;
      for (const sentinel of this.sentinels) {
        const client = await this.connect(sentinel.port, SENTINEL_PASSWORD);
        try {
          const master = pairsOf(
            (await client.sendCommand(['SENTINEL', 'MASTER', this.masterName])) as string[],
          );
          const complete = Number(master['num-other-sentinels']) >= 2 && Number(master['num-slaves']) >= 1;
          if (Number(master.port) === masterPort && complete) agreeing++;
        } finally {
          client.destroy();
        }
      }
      if (agreeing === this.sentinels.length) return;
      if (Date.now() > deadline) throw new Error('the sentinels did not discover each other');
      await sleep(200);
    }
  }

  /** A harness connection (TLS trusting the test CA when the group serves TLS). */
  private async connect(port: number, password: string): Promise<RedisClientType> {
    const client = createClient({
      url: `${this.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
      RESP: 2,
      password,
      socket: { reconnectStrategy: false, connectTimeout: 500, ...tlsClientSocket(this.tls) },
    }) as RedisClientType;
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  private async untilAnswering(port: number, password: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        const client = await this.connect(port, password);
        await client.ping();
        client.destroy();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis on ${port} did not start`);
        await sleep(25);
      }
    }
  }
}

function alive(proc: Proc): boolean {
  return proc.process.exitCode === null && proc.process.signalCode === null;
}

function pairsOf(flat: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) result[flat[i]] = flat[i + 1];
  return result;
}
