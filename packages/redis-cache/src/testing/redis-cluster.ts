import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import type { RedisClient as RedisClientType } from '../storage/redis-client.factory.js';
import { freePort } from './free-port.js';
import { APP_PASSWORD, APP_USER, HARNESS_PASSWORD, aclArguments } from './acl.js';
import { tlsClientSocket, tlsServerArguments, type TlsFiles } from './tls-certs.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TestClusterOptions {
  /** Masters (default 3), each with `replicas` replicas (default 1). */
  masters?: number;
  replicas?: number;
  /** An ACL user for the app on every node, limited to keys and channels under `prefix` (as TestRedisServer's). */
  appUser?: { prefix: string };
  /** How long a master may be silent before the others fail it over (default 2000 ms: promoted in about 4 s). */
  nodeTimeoutMs?: number;
  /** Serve TLS only (`rediss://` seeds), with TLS on the cluster bus and replication too. */
  tls?: TlsFiles;
}

export interface ClusterNode {
  port: number;
  busPort: number;
  process: ChildProcess;
}

/**
 * A Redis Cluster of the test's own, from `redis-server` on free loopback ports (3 masters + 3 replicas by
 * default, created with `redis-cli --cluster create`), so that a test can kill a master and watch its replica take
 * over. Nothing is persisted; `stop()` kills every node and removes the nodes' config files.
 */
export class TestRedisCluster {
  private readonly admins = new Map<number, RedisClientType>();

  private constructor(
    readonly nodes: ClusterNode[],
    private readonly dir: string,
    private readonly options: TestClusterOptions,
  ) {}

  static async start(options: TestClusterOptions = {}): Promise<TestRedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicas ?? 1;
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const cluster = new TestRedisCluster(nodes, dir, options);
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await cluster.spawnNode());
      await Promise.all(nodes.map((_node, index) => cluster.untilStarted(index)));
      const created = spawnSync(
        'redis-cli',
        [
          '-a',
          HARNESS_PASSWORD,
          '--no-auth-warning',
          ...(options.tls ? ['--tls', '--cacert', options.tls.caFile] : []),
          '--cluster',
          'create',
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      if (created.status !== 0)
        throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      await cluster.untilHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Seed URLs as the app is configured with them (`REDIS_CLUSTER_NODES`): every node, as the app's user. */
  get seedUrls(): string[] {
    const credentials = this.options.appUser ? `${APP_USER}:${APP_PASSWORD}@` : '';
    const scheme = this.options.tls ? 'rediss' : 'redis';
    return this.nodes.map((node) => `${scheme}://${credentials}127.0.0.1:${node.port}`);
  }

  /** The live masters' ports, each with the slot ranges it serves now (from CLUSTER SHARDS on a live node). */
  async masters(): Promise<{ port: number; slots: [number, number][] }[]> {
    const shards = (await (await this.anyAdmin()).sendCommand(['CLUSTER', 'SHARDS'])) as unknown[];
    const result: { port: number; slots: [number, number][] }[] = [];
    for (const shard of shards) {
      const fields = pairs(shard as unknown[]);
      const slots = fields.slots as number[];
      const master = (fields.nodes as unknown[][])
        .map((node) => pairs(node))
        .find((node) => node.role === 'master' && node.health === 'online');
      if (!master || slots.length === 0 || !this.isLive(portOf(master))) continue;
      const ranges: [number, number][] = [];
      for (let i = 0; i < slots.length; i += 2) ranges.push([Number(slots[i]), Number(slots[i + 1])]);
      result.push({ port: portOf(master), slots: ranges });
    }
    return result;
  }

  /** The port of the master serving `key`'s slot now. */
  async masterOf(key: string): Promise<number> {
    const slot = Number(await (await this.anyAdmin()).sendCommand(['CLUSTER', 'KEYSLOT', key]));
    const master = (await this.masters()).find((m) =>
      m.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!master) throw new Error(`no live master serves slot ${slot}`);
    return master.port;
  }

  private isLive(port: number): boolean {
    const node = this.nodes.find((n) => n.port === port);
    return node !== undefined && node.process.exitCode === null && node.process.signalCode === null;
  }

  /** SIGKILLs the node on `port` (a master: its replica is promoted after the node timeout). */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    this.admins.get(port)?.destroy();
    this.admins.delete(port);
    if (!node || node.process.exitCode !== null || node.process.signalCode !== null) return;
    const exited = once(node.process, 'exit');
    node.process.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP / SIGCONT a node: a replica so frozen receives nothing of its master's stream until thawed. */
  freeze(port: number): void {
    this.nodes.find((n) => n.port === port)?.process.kill('SIGSTOP');
  }

  thaw(port: number): void {
    this.nodes.find((n) => n.port === port)?.process.kill('SIGCONT');
  }

  /**
   * Cuts the replication links of the master on `masterPort` and keeps them cut: its replicas get a wrong
   * `masterauth`, then the master drops their connections (CLIENT KILL TYPE replica), so nothing it takes from then
   * on reaches them. Returns what restores them (a replica so held back can still be promoted). SIGSTOP would not
   * do: the stream waits in the frozen replica's socket buffer and arrives when it is thawed.
   */
  async detachReplicas(masterPort: number): Promise<() => Promise<void>> {
    const replicas = await this.replicasOf(masterPort);
    for (const port of replicas)
      await (await this.admin(port)).sendCommand(['CONFIG', 'SET', 'masterauth', 'not-the-password']);
    await (await this.admin(masterPort)).sendCommand(['CLIENT', 'KILL', 'TYPE', 'replica']);
    return async () => {
      for (const port of replicas)
        await (await this.admin(port)).sendCommand(['CONFIG', 'SET', 'masterauth', HARNESS_PASSWORD]);
    };
  }

  /** Starts a killed node again on its port, with its cluster config: it rejoins (as a replica, once failed over). */
  async restart(port: number): Promise<void> {
    const index = this.nodes.findIndex((n) => n.port === port);
    if (index < 0 || this.isLive(port)) return;
    this.nodes[index] = await this.spawnNode(port, this.nodes[index].busPort);
    await this.untilAnswering(port);
  }

  /** The ports of the live replicas of the master on `masterPort` (from its CLUSTER SHARDS entry). */
  async replicasOf(masterPort: number): Promise<number[]> {
    const shards = (await (await this.anyAdmin()).sendCommand(['CLUSTER', 'SHARDS'])) as unknown[];
    for (const shard of shards) {
      const nodes = (pairs(shard as unknown[]).nodes as unknown[][]).map((node) => pairs(node));
      if (!nodes.some((node) => node.role === 'master' && portOf(node) === masterPort)) continue;
      return nodes.filter((node) => node.role === 'replica' && this.isLive(portOf(node))).map(portOf);
    }
    return [];
  }

  /** Until `key`'s slot is served by a live master other than `oldMaster`; returns its port. */
  async untilNewMasterOf(key: string, oldMaster: number, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const master = await this.masterOf(key);
        if (master !== oldMaster) return master;
      } catch {
        // no live master for the slot yet
      }
      if (Date.now() > deadline) throw new Error(`no new master for ${key} within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /**
   * Until every live node reports `cluster_state:ok`, every slot has a live master (a killed one's replica
   * promoted) and every live replica has synced with its master.
   */
  async untilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const live = this.nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
        const states = await Promise.all(
          live.map(async (node) => (await this.admin(node.port)).sendCommand(['CLUSTER', 'INFO'])),
        );
        const served = (await this.masters()).reduce(
          (sum, m) => sum + m.slots.reduce((s, [from, to]) => s + to - from + 1, 0),
          0,
        );
        const replication = await Promise.all(
          live.map(async (node) => (await this.admin(node.port)).info('replication')),
        );
        const synced = replication.every(
          (info) => info.includes('role:master') || info.includes('master_link_status:up'),
        );
        if (states.every((info) => String(info).includes('cluster_state:ok')) && served === 16_384 && synced)
          return;
      } catch {
        // a node still starting or just killed
      }
      if (Date.now() > deadline) throw new Error('the cluster did not become healthy');
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    for (const admin of this.admins.values()) if (admin.isOpen) admin.destroy();
    this.admins.clear();
    await Promise.all(this.nodes.map((node) => this.kill(node.port)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A harness connection to one node (default user), for CLUSTER, INFO and the like. */
  async admin(port: number): Promise<RedisClientType> {
    let admin = this.admins.get(port);
    if (!admin?.isReady) {
      admin = createClient({
        url: `${this.options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
        RESP: 2,
        password: HARNESS_PASSWORD,
        socket: { reconnectStrategy: false, connectTimeout: 500, ...tlsClientSocket(this.options.tls) },
      }) as RedisClientType;
      admin.on('error', () => undefined);
      await admin.connect();
      this.admins.set(port, admin);
    }
    return admin;
  }

  private async anyAdmin(): Promise<RedisClientType> {
    for (const node of this.nodes) {
      if (node.process.exitCode !== null || node.process.signalCode !== null) continue;
      try {
        return await this.admin(node.port);
      } catch {
        // try the next
      }
    }
    throw new Error('no cluster node answers');
  }

  /** Ports this cluster chose: a port picked for one node is never picked again for another before it binds. */
  private readonly chosenPorts = new Set<number>();

  private async unusedPort(): Promise<number> {
    for (;;) {
      const port = await freePort();
      if (!this.chosenPorts.has(port)) {
        this.chosenPorts.add(port);
        return port;
      }
    }
  }

  /**
   * Waits for node `index`; if its process exited (a port taken between choosing and binding it), starts it again
   * on other ports, once.
   */
  private async untilStarted(index: number): Promise<void> {
    try {
      await this.untilAnswering(this.nodes[index].port);
    } catch (error) {
      if (this.nodes[index].process.exitCode === null) throw error;
      this.nodes[index] = await this.spawnNode();
      await this.untilAnswering(this.nodes[index].port);
    }
  }

  private async spawnNode(port?: number, busPort?: number): Promise<ClusterNode> {
    port ??= await this.unusedPort();
    busPort ??= await this.unusedPort();
    const child = spawn(
      'redis-server',
      [
        ...(this.options.tls
          ? [...tlsServerArguments(this.options.tls, port), '--tls-cluster', 'yes']
          : ['--port', String(port)]),
        ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--cluster-enabled', 'yes', '--cluster-port', String(busPort)],
        ...['--cluster-config-file', join(this.dir, `nodes-${port}.conf`)],
        ...['--cluster-node-timeout', String(this.options.nodeTimeoutMs ?? 2_000)],
        // Replicas sync at once (the default waits 5 s for more replicas): an unsynced replica cannot be promoted.
        ...['--repl-diskless-sync-delay', '0', '--dir', this.dir],
        ...aclArguments(this.options.appUser?.prefix),
        ...['--masterauth', HARNESS_PASSWORD],
      ],
      { stdio: 'ignore' },
    );
    return { port, busPort, process: child };
  }

  private async untilAnswering(port: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        await (await this.admin(port)).ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`cluster node on ${port} did not start`);
        await sleep(25);
      }
    }
  }
}

/** A node's client port in CLUSTER SHARDS: `tls-port` on a TLS-only node (its plain `port` is 0 or absent). */
function portOf(node: Record<string, unknown>): number {
  return Number(node.port || node['tls-port']);
}

/** A RESP map given as a flat [name, value, ...] array (CLUSTER SHARDS), as an object. */
function pairs(flat: unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (let i = 0; i < flat.length; i += 2) result[String(flat[i])] = flat[i + 1];
  return result;
}
