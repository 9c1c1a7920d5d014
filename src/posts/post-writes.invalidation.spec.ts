import { describe, expect, it, jest } from '@jest/globals';
import type { UsersRepository } from '../users/users.repository.js';
import { PostWritesInvalidation } from './post-writes.invalidation.js';

/** What afterWrite invalidates for an author with `followers` followers. */
async function invalidatedFor(followers: number) {
  const users = {
    followerIds: async (_id: number, limit: number) =>
      Array.from({ length: Math.min(followers, limit) }, (_, i) => 100 + i),
  } as unknown as UsersRepository;
  const invalidation = new PostWritesInvalidation(users);
  const calls: string[] = [];
  jest.spyOn(invalidation, 'postsOf').mockImplementation(async (id) => void calls.push(`posts of ${id}`));
  jest
    .spyOn(invalidation, 'followingFeedOf')
    .mockImplementation(async (id) => void calls.push(`feed of ${id}`));
  jest
    .spyOn(invalidation, 'everyFollowingFeed')
    .mockImplementation(async () => void calls.push('every feed'));
  await invalidation.afterWrite(7);
  return calls.sort();
}

describe('PostWritesInvalidation', () => {
  it("invalidates the author's posts and each follower's following feed", async () => {
    expect(await invalidatedFor(0)).toEqual(['posts of 7']);
    expect(await invalidatedFor(2)).toEqual(['feed of 100', 'feed of 101', 'posts of 7']);
  });

  it('past 1,000 followers, every following feed at once instead of one prefix each', async () => {
    expect(await invalidatedFor(1_000)).toHaveLength(1_001);
    expect(await invalidatedFor(5_000)).toEqual(['every feed', 'posts of 7']);
  });
});
