import { Inject, Injectable } from '@nestjs/common';
import { count, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { DB } from '../database/database.constants.js';
import type { Db } from '../database/database.types.js';
import { follows, posts, users } from '../database/schema.js';
import type { PostView } from './posts.types.js';

const POST_VIEW = {
  id: posts.id,
  content: posts.content,
  authorId: posts.authorId,
  author: { id: users.id, name: users.name },
  createdAt: posts.createdAt,
  updatedAt: posts.updatedAt,
};

/** All SQL about posts. */
@Injectable()
export class PostsRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  /**
   * @param scope all posts, the posts of one author, or the posts of the authors a viewer follows.
   * @returns a page, newest first (createdAt DESC, id DESC), with the author summary, and the match count.
   */
  async list(
    scope: { authorId?: number; followedBy?: number },
    page: { skip: number; limit: number },
  ): Promise<{ items: PostView[]; total: number }> {
    let where: SQL | undefined;
    if (scope.authorId !== undefined) where = eq(posts.authorId, scope.authorId);
    else if (scope.followedBy !== undefined) {
      where = inArray(
        posts.authorId,
        this.db
          .select({ id: follows.followeeId })
          .from(follows)
          .where(eq(follows.followerId, scope.followedBy)),
      );
    }
    const [items, [{ total }]] = await Promise.all([
      this.db
        .select(POST_VIEW)
        .from(posts)
        .innerJoin(users, eq(users.id, posts.authorId))
        .where(where)
        .orderBy(desc(posts.createdAt), desc(posts.id))
        .offset(page.skip)
        .limit(page.limit),
      this.db.select({ total: count() }).from(posts).where(where),
    ]);
    return { items, total };
  }

  async findById(id: number): Promise<PostView | undefined> {
    const [row] = await this.db
      .select(POST_VIEW)
      .from(posts)
      .innerJoin(users, eq(users.id, posts.authorId))
      .where(eq(posts.id, id));
    return row;
  }

  async create(authorId: number, content: string): Promise<number> {
    const [row] = await this.db.insert(posts).values({ authorId, content }).returning({ id: posts.id });
    return row.id;
  }

  async update(id: number, content: string): Promise<void> {
    await this.db
      .update(posts)
      .set({ content, updatedAt: sql`now()` })
      .where(eq(posts.id, id));
  }

  async delete(id: number): Promise<void> {
    await this.db.delete(posts).where(eq(posts.id, id));
  }
}
