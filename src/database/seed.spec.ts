import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asc, count } from 'drizzle-orm';
import { verifyPassword } from '../auth/password.util.js';
import { openMemoryDatabase } from '../../test/support/memory-database.js';
import type { DatabaseConnection, Db } from './database.types.js';
import { follows, JOB_TYPES, jobs, posts, users } from './schema.js';
import { CATEGORIES, LOCATIONS, ROLES_BY_CATEGORY } from './seed-data.js';
import { createRandom, DatabaseNotEmptyError, SEED_PASSWORD, seedDatabase } from './seed.js';

const SIZES = { users: 20, jobs: 50, posts: 40, seed: 7 };
const ANCHOR = new Date(Date.UTC(2026, 0, 1));

describe('createRandom', () => {
  const draw = (seed: number, n = 50) => {
    const random = createRandom(seed);
    return Array.from({ length: n }, () => random.next());
  };

  it('gives the same sequence for the same seed', () => {
    expect(draw(7)).toEqual(draw(7));
    expect(draw(0)).toEqual(draw(0));
  });

  it.each([
    [7, 8],
    [1, 2],
    [0, 42],
  ])('gives different sequences for seeds %i and %i', (a, b) => {
    expect(draw(a)).not.toEqual(draw(b));
  });

  it('draws in [0, 1) and is not constant', () => {
    const values = draw(7, 1_000);
    for (const value of values) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
    expect(new Set(values).size).toBeGreaterThan(990);
  });

  it('int(min, max) stays within bounds and reaches both ends', () => {
    const random = createRandom(3);
    const seen = new Set(Array.from({ length: 2_000 }, () => random.int(2, 5)));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });

  it('pick returns items of the list', () => {
    const random = createRandom(9);
    for (let i = 0; i < 200; i++) expect(LOCATIONS).toContain(random.pick(LOCATIONS));
  });

  it.each([0, 1, 3, 10, 20])('sample(items, %i) returns that many distinct items of the list', (size) => {
    const random = createRandom(11);
    const items = Array.from({ length: 20 }, (_, i) => `item-${i}`);
    for (let round = 0; round < 50; round++) {
      const sample = random.sample(items, size);
      expect(sample).toHaveLength(size);
      expect(new Set(sample).size).toBe(size);
      for (const item of sample) expect(items).toContain(item);
    }
    expect(items).toEqual(Array.from({ length: 20 }, (_, i) => `item-${i}`));
  });

  it('sample is deterministic for a seed and shuffles', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect(createRandom(5).sample(items, 10)).toEqual(createRandom(5).sample(items, 10));
    expect(createRandom(5).sample(items, 10)).not.toEqual(items);
  });
});

describe('seedDatabase', () => {
  const open = async () => {
    const database = await openMemoryDatabase();
    return database;
  };

  /** Every seeded row, in id order, without the (randomly salted) password hash. */
  async function snapshot(db: Db) {
    const userRows = await db
      .select({
        id: users.id,
        email: users.email,
        name: users.name,
        bio: users.bio,
        createdAt: users.createdAt,
        updatedAt: users.updatedAt,
      })
      .from(users)
      .orderBy(asc(users.id));
    const followRows = await db
      .select()
      .from(follows)
      .orderBy(asc(follows.followerId), asc(follows.followeeId));
    const jobRows = await db.select().from(jobs).orderBy(asc(jobs.id));
    const postRows = await db.select().from(posts).orderBy(asc(posts.id));
    return { users: userRows, follows: followRows, jobs: jobRows, posts: postRows };
  }

  let first: DatabaseConnection;
  let second: DatabaseConnection;
  let firstResult: Awaited<ReturnType<typeof seedDatabase>>;
  let firstRows: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    [first, second] = await Promise.all([open(), open()]);
    firstResult = await seedDatabase(first.db, SIZES);
    firstRows = await snapshot(first.db);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
  });

  it('writes the requested numbers of rows and reports them', async () => {
    expect(firstResult).toMatchObject({ users: 20, jobs: 50, posts: 40 });
    expect(firstRows.users).toHaveLength(20);
    expect(firstRows.jobs).toHaveLength(50);
    expect(firstRows.posts).toHaveLength(40);
    expect(firstRows.follows).toHaveLength(firstResult.follows);
    expect(firstResult.follows).toBeGreaterThan(0);
  });

  it('writes identical rows into another database for the same seed and sizes', async () => {
    await seedDatabase(second.db, SIZES);
    expect(await snapshot(second.db)).toEqual(firstRows);
  }, 60_000);

  it('dates every row before 2026-01-01', () => {
    const dates = [
      ...firstRows.users.flatMap((row) => [row.createdAt, row.updatedAt]),
      ...firstRows.follows.map((row) => row.createdAt),
      ...firstRows.jobs.flatMap((row) => [row.createdAt, row.updatedAt]),
      ...firstRows.posts.flatMap((row) => [row.createdAt, row.updatedAt]),
    ];
    expect(dates.length).toBeGreaterThan(200);
    for (const date of dates) expect(date.getTime()).toBeLessThan(ANCHOR.getTime());
  });

  it('takes every job location, category, role and type from the vocabulary', () => {
    for (const job of firstRows.jobs) {
      expect(LOCATIONS).toContain(job.location);
      expect(CATEGORIES).toContain(job.category);
      expect(ROLES_BY_CATEGORY[job.category].some((role) => job.title.endsWith(role))).toBe(true);
      expect(JOB_TYPES).toContain(job.type);
      expect(job.description).not.toMatch(/\{\w+\}/);
      if (job.salaryMin !== null && job.salaryMax !== null) {
        expect(job.salaryMax).toBeGreaterThanOrEqual(job.salaryMin);
      }
    }
  });

  it('links jobs, posts and follows to seeded users, never a user to itself', () => {
    const ids = new Set(firstRows.users.map((user) => user.id));
    for (const job of firstRows.jobs) expect(ids.has(job.postedBy)).toBe(true);
    for (const post of firstRows.posts) {
      expect(ids.has(post.authorId)).toBe(true);
      expect(post.content).not.toMatch(/\{\w+\}/);
    }
    for (const follow of firstRows.follows) {
      expect(ids.has(follow.followerId) && ids.has(follow.followeeId)).toBe(true);
      expect(follow.followerId).not.toBe(follow.followeeId);
    }
  });

  it('gives every user the documented password through one shared hash', async () => {
    const hashes = await first.db.select({ hash: users.passwordHash }).from(users);
    expect(new Set(hashes.map((row) => row.hash)).size).toBe(1);
    await expect(verifyPassword(SEED_PASSWORD, hashes[0].hash)).resolves.toBe(true);
  });

  it('refuses to seed a database that has users, and leaves it unchanged', async () => {
    await expect(seedDatabase(first.db, SIZES)).rejects.toBeInstanceOf(DatabaseNotEmptyError);
    const [{ total }] = await first.db.select({ total: count() }).from(users);
    expect(total).toBe(20);
  });

  it('replaces the data with {reset: true}, ids starting again at 1', async () => {
    const result = await seedDatabase(first.db, { ...SIZES, users: 5, jobs: 3, posts: 2 }, { reset: true });
    expect(result).toMatchObject({ users: 5, jobs: 3, posts: 2 });
    const rows = await snapshot(first.db);
    expect(rows.users.map((row) => row.id)).toEqual([1, 2, 3, 4, 5]);
    expect(rows.jobs.map((row) => row.id)).toEqual([1, 2, 3]);
    expect(rows.posts.map((row) => row.id)).toEqual([1, 2]);
    for (const follow of rows.follows) {
      expect(follow.followerId).toBeLessThanOrEqual(5);
      expect(follow.followeeId).toBeLessThanOrEqual(5);
    }
  }, 60_000);

  it('after a reset with the original sizes, writes the original rows again', async () => {
    await seedDatabase(first.db, SIZES, { reset: true });
    expect(await snapshot(first.db)).toEqual(firstRows);
  }, 60_000);
});
