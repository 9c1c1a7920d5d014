import { describe, expect, it } from '@jest/globals';
import {
  buildUniverse,
  IdealCache,
  operations,
  signToken,
  TOKEN_SHARE,
  WRITE_SHARE,
  zipfSampler,
  createRandom,
} from './workload.js';
import { createHmac } from 'node:crypto';

const facts = {
  jobIds: Array.from({ length: 3_000 }, (_, i) => i + 1),
  userIds: Array.from({ length: 600 }, (_, i) => i + 1),
  locations: ['Berlin', 'Paris'],
  categories: ['Engineering', 'Design'],
  types: ['full-time', 'contract'],
  ownedJobs: Array.from({ length: 300 }, (_, i) => ({ id: i + 1, postedBy: (i % 250) + 1 })),
};

describe('the day workload', () => {
  const universe = buildUniverse(facts, 's'.repeat(32), 7);

  it('gives the same operations for the same seed and step, and others for another step', () => {
    expect(operations(universe, 7, 3, 2_000)).toEqual(operations(universe, 7, 3, 2_000));
    expect(operations(universe, 7, 4, 2_000)).not.toEqual(operations(universe, 7, 3, 2_000));
  });

  it('mixes about 1% writes and a 40%+ share of signed-in reads, following=true always signed in', () => {
    const ops = operations(universe, 7, 1, 50_000);
    const writes = ops.filter((op) => op.kind !== 'read').length / ops.length;
    expect(writes).toBeGreaterThan(WRITE_SHARE * 0.8);
    expect(writes).toBeLessThan(WRITE_SHARE * 1.2);
    const reads = ops.flatMap((op) => (op.kind === 'read' ? [op] : []));
    const signedIn = reads.filter((op) => op.viewer !== undefined).length / reads.length;
    expect(signedIn).toBeGreaterThan(TOKEN_SHARE);
    expect(signedIn).toBeLessThan(TOKEN_SHARE + 0.1);
    expect(
      reads.filter((op) => op.path.includes('following=true')).every((op) => op.viewer !== undefined),
    ).toBe(true);
    // Only viewers' own jobs are updated, and nobody follows themselves.
    for (const op of ops) {
      if (op.kind === 'job') expect(universe.ownedJobs[op.job]).toBeDefined();
      if (op.kind === 'follow') expect(universe.viewers[op.viewer].id).not.toBe(op.followee);
    }
  });

  it('draws Zipf ranks: rank 0 about twice rank 1 and ten times rank 9', () => {
    const draw = zipfSampler(1_000, createRandom(1));
    const counts = new Array<number>(1_000).fill(0);
    for (let i = 0; i < 200_000; i++) counts[draw()]++;
    expect(counts[0] / counts[1]).toBeGreaterThan(1.7);
    expect(counts[0] / counts[1]).toBeLessThan(2.3);
    expect(counts[0] / counts[9]).toBeGreaterThan(8);
    expect(counts[0] / counts[9]).toBeLessThan(12);
  });

  it('signs tokens the app verifies: HS256 over header.payload with sub and exp', () => {
    const token = signToken(42, 'secret', 60);
    const [header, payload, signature] = token.split('.');
    expect(createHmac('sha256', 'secret').update(`${header}.${payload}`).digest('base64url')).toBe(signature);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: number; exp: number };
    expect(claims.sub).toBe(42);
    expect(claims.exp - Date.now() / 1000).toBeGreaterThan(50);
  });

  it('ideal cache: a repeated key hits until its TTL, per viewer only where the route keys per viewer', () => {
    const kind = (name: string) => universe.kinds.findIndex((k) => k.name === name);
    const read = (name: string, path: string, viewer?: number) =>
      ({ kind: 'read', page: kind(name), path, viewer }) as const;
    const ideal = new IdealCache(universe);
    // One read a second: the job item (120 s) hits once more within its TTL, and again only after a new miss.
    const first = ideal.replay([read('job items', '/api/jobs/1'), read('job items', '/api/jobs/1')], 1);
    expect(first).toMatchObject({ hits: 1, reads: 2 });
    expect(ideal.replay([read('job items', '/api/jobs/1')], 1 / 200)).toMatchObject({ hits: 0 });
    // The public feed is one entry for two viewers; a profile is one per viewer.
    const feed = ideal.replay([read('posts feed', '/api/posts', 1), read('posts feed', '/api/posts', 2)], 1);
    expect(feed.hits).toBe(1);
    const profile = ideal.replay(
      [read('user profiles', '/api/users/3', 1), read('user profiles', '/api/users/3', 2)],
      1,
    );
    expect(profile.hits).toBe(0);
    expect(profile.byKind['user profiles']).toEqual({ hits: 0, reads: 2 });
  });
});
