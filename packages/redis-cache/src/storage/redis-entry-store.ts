import KeyvRedis from '@keyv/redis';
import { RESP_TYPES } from '@redis/client';
import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { createHash } from 'node:crypto';
import { decodeEntryBytes } from './cache-entry.js';
import type { CurrentWrite, EntryLocation, EntryStore, StoredRead, StoredReads } from './entry-store.js';
import type { RedisCluster } from './cluster-client.js';
import type { RedisClient } from './redis-client.factory.js';
import { WRITE_CURRENT_SCRIPT, writeCurrentArguments } from './write-current.script.js';

const WRITE_CURRENT_SHA = createHash('sha1').update(WRITE_CURRENT_SCRIPT).digest('hex');

interface BufferReplies {
  mGet(keys: string[]): Promise<(Buffer | null)[]>;
}

/**
 * Entries in Redis. Written through cache-manager and Keyv (@keyv/redis on the module's own node-redis client),
 * which store the framed string at exactly the entry key with a PX TTL; read with one MGET of the covering
 * generations and the entry, answered as bytes, so that a hit slices the body out of Redis's reply without decoding
 * it. Failures reach the caller, which owns deadlines and fallbacks (RedisGateway).
 */
export class RedisEntryStore implements EntryStore {
  readonly localEntries = undefined;
  private readonly entries: Cache;
  /** The same connection, answering bulk strings as Buffers (the hit path's view). */
  private readonly bytes: BufferReplies;

  /**
   * @param cluster on Redis Cluster, the same client as node-redis's cluster type: multi-key reads and UNLINK are
   *   split by slot by the client (in parallel, one round trip of wall time), but pipelines, scripts and SCAN are not.
   */
  constructor(
    private readonly client: RedisClient,
    onError: (error: unknown) => void,
    private readonly cluster?: RedisCluster,
  ) {
    // @keyv/redis 5.1.6 is typed against @redis/client 5; it only calls commands both versions share (checked by
    // every suite that writes through it).
    type KeyvClient = ConstructorParameters<typeof KeyvRedis>[0];
    const store = new KeyvRedis(client as unknown as KeyvClient, { throwOnErrors: false, useUnlink: true });
    // Entries are stored as framed strings (cache-entry.ts), not Keyv's JSON envelope: a hit must not parse the
    // body. Redis enforces the TTL (KeyvRedis writes PX), so the envelope's `expires` is not needed.
    const keyv = new Keyv({
      store,
      useKeyPrefix: false,
      namespace: undefined,
      serialize: ({ value }) => value as string,
      deserialize: (raw) => ({ value: raw as never }),
    });
    // @keyv/redis reports command errors as events and resolves no-op values: without this they would be silent.
    keyv.on('error', onError);
    this.entries = createCache({ stores: [keyv] });
    this.bytes = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as BufferReplies;
  }

  async read(location: EntryLocation): Promise<StoredRead> {
    const replies = await this.bytes.mGet([...location.generationKeys, location.entryKey]);
    return {
      generations: replies.slice(0, -1).map((reply) => reply?.toString('latin1') ?? null),
      entry: decodeEntryBytes(replies.at(-1)),
    };
  }

  async write(entryKey: string, framed: string, ttlMs: number): Promise<void> {
    // @keyv/redis connects a client that is not open; on Cluster before the slot map, that would race our own.
    if (this.cluster) this.connected();
    await this.entries.set(entryKey, framed, ttlMs);
  }

  async readMany(generationKeys: string[], entryKeys: string[]): Promise<StoredReads> {
    const replies = await this.bytes.mGet([...generationKeys, ...entryKeys]);
    return {
      generations: new Map(generationKeys.map((key, i) => [key, replies[i]?.toString('latin1') ?? null])),
      entries: replies.slice(generationKeys.length).map((reply) => decodeEntryBytes(reply)),
    };
  }

  async writeFrames(frames: { entryKey: string; frame: Buffer; ttlMs: number }[]): Promise<void> {
    if (frames.length === 0) return;
    if (this.cluster) {
      await Promise.all(
        frames.map(({ entryKey, frame, ttlMs }) =>
          this.connected().set(entryKey, frame, { PX: Math.max(1, Math.ceil(ttlMs)) }),
        ),
      );
      return;
    }
    const pipeline = this.connected().multi();
    for (const { entryKey, frame, ttlMs } of frames)
      pipeline.set(entryKey, frame, { PX: Math.max(1, Math.ceil(ttlMs)) });
    await pipeline.execAsPipeline();
  }

  async writeCurrent(writes: CurrentWrite[], generationTtlMs: number, seed: string): Promise<string[][]> {
    if (writes.length === 0) return [];
    if (this.cluster) return this.writeCurrentOnCluster(writes, generationTtlMs, seed);
    const options = writeCurrentArguments(writes, generationTtlMs, seed);
    let lines: unknown;
    try {
      lines = await this.client.evalSha(WRITE_CURRENT_SHA, options);
    } catch (error) {
      // The first call after Redis restarted (or was flushed of scripts): EVAL loads it again.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      lines = await this.client.eval(WRITE_CURRENT_SCRIPT, options);
    }
    return (lines as string[]).map((line) => (line === '' ? [] : String(line).split(',')));
  }

  /**
   * Cluster: the script cannot span the counters' slot and the entries' slots. The counters are read (and created
   * when missing) in one MULTI in their slot, then each entry is written with them. Not atomic, and it need not be:
   * a bump landing in between leaves the value under generations already replaced, unreachable, exactly as if
   * the write had come before the invalidation; it can never make a value reachable under newer generations.
   */
  private async writeCurrentOnCluster(
    writes: CurrentWrite[],
    generationTtlMs: number,
    seed: string,
  ): Promise<string[][]> {
    const counters = [...new Set(writes.flatMap((write) => write.generationKeys))];
    const values = new Map<string, string>();
    if (counters.length > 0) {
      const multi = this.connected().multi();
      for (const key of counters) {
        multi.set(key, seed, { NX: true, PX: Math.ceil(generationTtlMs) });
        multi.pExpire(key, Math.ceil(generationTtlMs));
      }
      multi.mGet(counters);
      const read = (await multi.exec()).at(-1) as unknown as (string | null)[];
      counters.forEach((key, i) => values.set(key, String(read[i] ?? seed)));
    }
    const lines = writes.map((write) => write.generationKeys.map((key) => values.get(key)!));
    await Promise.all(
      writes.map((write, i) =>
        this.connected().set(
          write.entryKey,
          Buffer.concat([Buffer.from(`${lines[i].join(',')}\n`, 'latin1'), write.tail]),
          { PX: Math.max(1, Math.ceil(write.ttlMs)) },
        ),
      ),
    );
    return lines;
  }

  async remove(entryKeys: string[]): Promise<void> {
    if (entryKeys.length > 0) await this.client.unlink(entryKeys);
  }

  /** node-redis queues MULTIs and pipelines while disconnected whatever `disableOfflineQueue` says: fail at once. */
  private connected(): RedisClient {
    if (!this.client.isReady) throw new Error('Redis connection is not ready');
    return this.client;
  }

  async deleteByPrefix(physicalPrefix: string): Promise<number> {
    const escaped = physicalPrefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    let removed = 0;
    if (this.cluster) {
      // SCAN reaches one node: walk every master, then UNLINK through the cluster client (split by slot).
      for (const master of this.cluster.masters) {
        const node = await this.cluster.nodeClient(master);
        for await (const keys of node.scanIterator({ MATCH: `${escaped}*`, COUNT: 1_000 }))
          if (keys.length > 0) removed += await this.client.unlink(keys);
      }
      return removed;
    }
    for await (const keys of this.client.scanIterator({ MATCH: `${escaped}*`, COUNT: 1_000 })) {
      if (keys.length > 0) removed += await this.client.unlink(keys);
    }
    return removed;
  }
}
