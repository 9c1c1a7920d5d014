import { Inject, Injectable } from '@nestjs/common';
import { and, count, desc, eq, ilike, sql, type SQL } from 'drizzle-orm';
import { containsPattern } from '../common/dto/search.util.js';
import { DB } from '../database/database.constants.js';
import type { Db } from '../database/database.types.js';
import { follows, users } from '../database/schema.js';
import type { NewUser, UserProfile } from './users.types.js';

/** All SQL about users and follows. */
@Injectable()
export class UsersRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  private profileColumns(viewerId: number | undefined) {
    return {
      id: users.id,
      name: users.name,
      bio: users.bio,
      createdAt: users.createdAt,
      followersCount:
        sql<number>`(SELECT count(*) FROM ${follows} WHERE ${follows.followeeId} = ${users.id})`.mapWith(
          Number,
        ),
      followingCount:
        sql<number>`(SELECT count(*) FROM ${follows} WHERE ${follows.followerId} = ${users.id})`.mapWith(
          Number,
        ),
      isFollowing:
        viewerId === undefined
          ? sql<boolean>`false`.mapWith(Boolean)
          : sql<boolean>`EXISTS (SELECT 1 FROM ${follows} WHERE ${follows.followerId} = ${viewerId} AND ${follows.followeeId} = ${users.id})`.mapWith(
              Boolean,
            ),
      email: users.email,
    };
  }

  /** @returns a page of users, newest first, with counts and `isFollowing` for the viewer. */
  async list(
    filter: { search?: string; skip: number; limit: number },
    viewerId: number | undefined,
  ): Promise<{ items: UserProfile[]; total: number }> {
    const where: SQL | undefined = filter.search
      ? ilike(users.name, containsPattern(filter.search))
      : undefined;
    const [rows, [{ total }]] = await Promise.all([
      this.db
        .select(this.profileColumns(viewerId))
        .from(users)
        .where(where)
        .orderBy(desc(users.createdAt), desc(users.id))
        .offset(filter.skip)
        .limit(filter.limit),
      this.db.select({ total: count() }).from(users).where(where),
    ]);
    return { items: rows.map((row) => withEmailFor(row, viewerId)), total };
  }

  async findProfile(id: number, viewerId: number | undefined): Promise<UserProfile | undefined> {
    const [row] = await this.db.select(this.profileColumns(viewerId)).from(users).where(eq(users.id, id));
    return row ? withEmailFor(row, viewerId) : undefined;
  }

  async exists(id: number): Promise<boolean> {
    const [row] = await this.db.select({ id: users.id }).from(users).where(eq(users.id, id));
    return row !== undefined;
  }

  /** @returns the id and password hash for a (lower-cased) email, for login. */
  async findCredentials(email: string): Promise<{ id: number; passwordHash: string } | undefined> {
    const [row] = await this.db
      .select({ id: users.id, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.email, email));
    return row;
  }

  /** @returns the new user's id, or undefined when the email is taken (the unique index decides, race-free). */
  async create(user: NewUser): Promise<number | undefined> {
    const [row] = await this.db
      .insert(users)
      .values(user)
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id });
    return row?.id;
  }

  /** Who follows `userId`, at most `limit` of them (any order). */
  async followerIds(userId: number, limit: number): Promise<number[]> {
    const rows = await this.db
      .select({ id: follows.followerId })
      .from(follows)
      .where(eq(follows.followeeId, userId))
      .limit(limit);
    return rows.map((row) => row.id);
  }

  /** Idempotent: following twice leaves one row. */
  async follow(followerId: number, followeeId: number): Promise<void> {
    await this.db.insert(follows).values({ followerId, followeeId }).onConflictDoNothing();
  }

  async unfollow(followerId: number, followeeId: number): Promise<void> {
    await this.db
      .delete(follows)
      .where(and(eq(follows.followerId, followerId), eq(follows.followeeId, followeeId)));
  }
}

function withEmailFor(row: UserProfile & { email: string }, viewerId: number | undefined): UserProfile {
  const { email, ...profile } = row;
  return row.id === viewerId ? { ...profile, email } : profile;
}
