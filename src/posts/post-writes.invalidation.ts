import { Injectable } from '@nestjs/common';
import { InvalidatesCache } from '@jobboard/redis-cache';
import { UsersRepository } from '../users/users.repository.js';

/** Past this many followers, a post invalidates every following feed (one prefix) rather than one per follower. */
const MAX_FOLLOWER_FEEDS = 1_000;

/**
 * What a post written, edited or deleted invalidates, in one bump (the calls are made in one tick, which the cache
 * joins): the public feed, the author's own list, and the following feeds of the author's followers only, rather
 * than every feed. Feed keys start with `following` and the viewer (PostsController.list), so a follower's feed is
 * `posts:list:true:<follower>:`. On the day benchmark a bump of all of `posts:list:` per post kept following feeds
 * at 6-11% hits.
 *
 * Followers are read after the write committed. A follow that commits after that read invalidates the new
 * follower's feed itself (UsersController), and a feed filled before the follow did not show the author at all.
 */
@Injectable()
export class PostWritesInvalidation {
  constructor(private readonly users: UsersRepository) {}

  async afterWrite(authorId: number): Promise<void> {
    const followers = await this.users.followerIds(authorId, MAX_FOLLOWER_FEEDS + 1);
    const feeds =
      followers.length > MAX_FOLLOWER_FEEDS
        ? [this.everyFollowingFeed()]
        : followers.map((follower) => this.followingFeedOf(follower));
    await Promise.all([this.postsOf(authorId), ...feeds]);
  }

  @InvalidatesCache('posts:list:false:', 'posts:user:{0}:')
  async postsOf(authorId: number): Promise<void> {
    void authorId;
  }

  @InvalidatesCache('posts:list:true:{0}:')
  async followingFeedOf(followerId: number): Promise<void> {
    void followerId;
  }

  @InvalidatesCache('posts:list:true:')
  async everyFollowingFeed(): Promise<void> {}
}
