import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { freePort } from './free-port.js';

export type FaultMode =
  { kind: 'pass' } | { kind: 'latency'; ms: number } | { kind: 'blackhole' } | { kind: 'reset' };

/** One direction of one connection: chunks leave in arrival order, each no earlier than its due time. */
class Lane {
  private readonly queue: { chunk: Buffer; due: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Bytes that left for `to` (what the far side could have seen). */
  forwarded = 0;
  /** Bytes thrown away by a blackhole. */
  dropped = 0;

  constructor(
    private readonly to: Socket,
    private readonly mode: () => FaultMode,
  ) {}

  push(chunk: Buffer): void {
    const mode = this.mode();
    if (mode.kind === 'blackhole' || mode.kind === 'reset') {
      this.dropped += chunk.length;
      return;
    }
    const delay = mode.kind === 'latency' ? mode.ms : 0;
    // Straight through only when nothing is waiting ahead of it: order is kept across mode changes.
    if (delay === 0 && this.queue.length === 0) return this.write(chunk);
    this.queue.push({ chunk, due: Date.now() + delay });
    this.schedule();
  }

  /** Forgets whatever is still waiting (a blackhole also swallows data already in flight). */
  drop(): void {
    for (const { chunk } of this.queue) this.dropped += chunk.length;
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private write(chunk: Buffer): void {
    if (this.to.destroyed) return;
    this.forwarded += chunk.length;
    this.to.write(chunk);
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(() => this.pump(), Math.max(0, this.queue[0].due - Date.now()));
  }

  private pump(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].due <= now) this.write(this.queue.shift()!.chunk);
    this.schedule();
  }
}

interface Pair {
  client: Socket;
  upstream: Socket;
  lanes: Lane[];
}

/**
 * A TCP proxy on a free loopback port between the app and a Redis, whose behaviour a test switches at runtime:
 * `pass` forwards; `latency(ms)` delays every chunk in both directions by `ms`, in order; `blackhole` keeps the
 * connections open and drops every byte both ways; `reset` sends RST on every existing and new client connection.
 * Tracks every socket it creates and destroys them all in {@link close}.
 */
export class FaultProxy {
  private current: FaultMode = { kind: 'pass' };
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<Pair>();
  private closed = false;
  /** Client connections accepted, and those answered with RST. */
  readonly stats = { connections: 0, resets: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new FaultProxy(server, port, { host: targetHost, port: targetPort });
    server.on('connection', (socket) => proxy.accept(socket));
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get mode(): FaultMode {
    return this.current;
  }

  /** Live sockets (client and upstream sides), for leak checks. */
  get openSockets(): number {
    return this.sockets.size;
  }

  pass(): void {
    this.switchTo({ kind: 'pass' });
  }

  latency(ms: number): void {
    this.switchTo({ kind: 'latency', ms });
  }

  blackhole(): void {
    this.switchTo({ kind: 'blackhole' });
    for (const pair of this.pairs) for (const lane of pair.lanes) lane.drop();
  }

  reset(): void {
    this.switchTo({ kind: 'reset' });
    for (const pair of [...this.pairs]) this.teardown(pair, true);
  }

  /**
   * Leaving a blackhole, a connection that lost bytes cannot carry on: its peers would pair replies with the wrong
   * requests, which real TCP (deliver in order or die) never does. Those connections are closed, as a network
   * that dropped them for good would end up doing; connections that lost nothing carry on.
   */
  private switchTo(next: FaultMode): void {
    const leavingBlackhole = this.current.kind === 'blackhole' && next.kind !== 'blackhole';
    this.current = next;
    if (!leavingBlackhole) return;
    for (const pair of [...this.pairs]) {
      if (pair.lanes.some((lane) => lane.dropped > 0)) this.teardown(pair, false);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pair of [...this.pairs]) this.teardown(pair, false);
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (this.server.listening) {
      const closed = once(this.server, 'close');
      this.server.close();
      await closed;
    }
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    // Resets and refusals are the point of this proxy: never let them surface as uncaught errors.
    socket.on('error', () => undefined);
  }

  private accept(client: Socket): void {
    this.track(client);
    this.stats.connections++;
    if (this.closed) {
      client.destroy();
      return;
    }
    if (this.current.kind === 'reset') {
      this.stats.resets++;
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = createConnection({ ...this.target, noDelay: true });
    this.track(upstream);
    const mode = () => this.current;
    const pair: Pair = { client, upstream, lanes: [new Lane(upstream, mode), new Lane(client, mode)] };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => pair.lanes[0].push(chunk));
    upstream.on('data', (chunk: Buffer) => pair.lanes[1].push(chunk));
    // Either side gone (Redis killed, client destroyed): take the other one down too.
    client.on('close', () => this.teardown(pair, false));
    upstream.on('close', () => this.teardown(pair, false));
  }

  private teardown(pair: Pair, reset: boolean): void {
    if (!this.pairs.delete(pair)) return;
    for (const lane of pair.lanes) lane.drop();
    if (reset && !pair.client.destroyed) {
      this.stats.resets++;
      pair.client.resetAndDestroy();
    } else {
      pair.client.destroy();
    }
    pair.upstream.destroy();
  }
}
