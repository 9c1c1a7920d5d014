// Redis Cluster placement (README "Topologies"): every counter of a prefix, of every tenant and namespace, and the
// bus channel hash to one slot, so that a bump's MULTI and SPUBLISH never raise CROSSSLOT; entries and leases do
// not carry the tag, so they spread over the slots. And the options that name a cluster are checked at start-up.
import { describe, expect, it } from '@jest/globals';
import calculateSlot from 'cluster-key-slot';
import { CacheConfigurationError } from '../errors.js';
import { KeySpace, keySpaceFor } from '../keys/key-space.js';
import { clusterCredentials } from './cluster-client.js';
import { topologyOf } from './redis-topology.js';

const keys = new KeySpace('jobboard:', { cluster: true });

describe('key placement on Redis Cluster', () => {
  it('puts every counter and the channel behind the prefix, under one hash tag', () => {
    expect(keys.rootGeneration).toBe('jobboard:{jobboard}g:');
    expect(keys.channel).toBe('jobboard:{jobboard}invalidations');
    const counters = [
      keys.rootGeneration,
      keys.generation(undefined, ['jobs', 'list']),
      keys.generation('acme', ['jobs']),
      keys.generation('a}b{c', []),
      keys.namedGeneration(undefined, 'embeddings', []),
      keys.namedGeneration('acme', 'embeddings', ['9f']),
      keys.namedDeletion('acme', 'embeddings', 1023),
      keys.channel,
    ];
    expect(new Set(counters.map((key) => calculateSlot(key))).size).toBe(1);
    // An ACL limited to `jobboard:*` still covers them.
    for (const key of counters) expect(key.startsWith('jobboard:')).toBe(true);
  });

  it('leaves entries and leases untagged: 1,000 entries of one family land on many slots', () => {
    const slots = new Set<number>();
    for (let id = 0; id < 1_000; id++) {
      const entry = keys.entry(undefined, `jobs:item:${id}`);
      slots.add(calculateSlot(entry));
      expect(calculateSlot(keys.lease(entry, ['1', '2']))).not.toBeNaN();
    }
    expect(slots.size).toBeGreaterThan(900);
  });

  it('keeps the one-server layout when no cluster is configured', () => {
    expect(keySpaceFor({ prefix: 'jobboard' }).rootGeneration).toBe('jobboard:g:');
    expect(keySpaceFor({ prefix: 'jobboard', cluster: { nodes: [] } }).rootGeneration).toBe(
      'jobboard:{jobboard}g:',
    );
  });
});

describe('cluster options', () => {
  const nodes = ['redis://app:secret@10.0.0.1:7001', 'redis://app:secret@10.0.0.2:7002'];

  it('names the cluster topology, exclusive with url and sentinel', () => {
    expect(topologyOf({ prefix: 'p:', cluster: { nodes } })).toBe('cluster');
    expect(() => topologyOf({ prefix: 'p:', cluster: { nodes }, url: 'redis://x' })).toThrow(
      /url and cluster are exclusive/,
    );
  });

  it('refuses a prefix with braces, which would move the hash tag', () => {
    expect(() => topologyOf({ prefix: 'p{1}:', cluster: { nodes } })).toThrow(CacheConfigurationError);
  });

  it('takes one set of credentials from the seed URLs, and refuses URLs that disagree', () => {
    expect(clusterCredentials({ nodes })).toEqual({ username: 'app', password: 'secret', tls: false });
    expect(clusterCredentials({ nodes: ['rediss://:p%40ss@h:1'] })).toEqual({
      username: undefined,
      password: 'p@ss',
      tls: true,
    });
    expect(() => clusterCredentials({ nodes: [...nodes, 'redis://app:other@10.0.0.3:7003'] })).toThrow(
      /same scheme and credentials/,
    );
    expect(() => clusterCredentials({ nodes: [] })).toThrow(CacheConfigurationError);
    expect(() => clusterCredentials({ nodes: ['http://h:1'] })).toThrow(CacheConfigurationError);
    // The message never repeats a URL (it may hold a password).
    try {
      clusterCredentials({ nodes: ['redis://app:CANARY-9f3e@h:1', 'redis://app:x@h:2'] });
    } catch (error) {
      expect(String(error)).not.toContain('CANARY');
    }
  });
});
