import { count, sql } from 'drizzle-orm';
import { hashPassword } from '../auth/password.util.js';
import type { Db } from './database.types.js';
import { follows, JOB_TYPES, jobs, posts, users } from './schema.js';
import {
  BIOS,
  CATEGORIES,
  COMPANY_STEMS,
  COMPANY_SUFFIXES,
  DESCRIPTION_SENTENCES,
  FIRST_NAMES,
  LAST_NAMES,
  LEVELS,
  LOCATIONS,
  POST_TEMPLATES,
  ROLES_BY_CATEGORY,
  TECH,
} from './seed-data.js';

/** Every seeded user logs in with this password (README); it is hashed once per run, not once per user. */
export const SEED_PASSWORD = 'password123';

export interface SeedSizes {
  users: number;
  jobs: number;
  posts: number;
  /** Upper bound of follows per user (each user follows 0..this many others). */
  maxFollowsPerUser?: number;
  /** PRNG seed: the same seed and sizes give the same rows. */
  seed?: number;
}

export interface SeedResult {
  users: number;
  jobs: number;
  posts: number;
  follows: number;
}

/** The seed's clock: rows are dated before this instant, so they are always in the past and reproducible. */
const SEED_ANCHOR_MS = Date.UTC(2026, 0, 1);
const DAY_MS = 86_400_000;
const BATCH = 1_000;

export class DatabaseNotEmptyError extends Error {
  constructor() {
    super('The database already has users; pass --reset to replace its data with the seed.');
  }
}

/** mulberry32: a tiny deterministic PRNG, so a seed number reproduces the data set exactly. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  /** `size` distinct items, in random order. */
  const sample = <T>(items: readonly T[], size: number): T[] => {
    const pool = [...items];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, size);
  };
  return { next, int, pick, sample, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof createRandom>;

function fill(template: string, random: Random, context: { category: string; location: string }): string {
  return template
    .replace('{tech2}', random.pick(TECH))
    .replace('{tech}', random.pick(TECH))
    .replace('{category}', context.category)
    .replace('{location}', context.location)
    .replace('{days}', String(random.int(25, 32)));
}

function pastDate(random: Random, maxDaysAgo: number, minDaysAgo = 0): Date {
  return new Date(SEED_ANCHOR_MS - random.int(minDaysAgo * DAY_MS, maxDaysAgo * DAY_MS));
}

async function insertInBatches<T>(rows: T[], insert: (batch: T[]) => Promise<unknown>, batchSize = BATCH) {
  for (let i = 0; i < rows.length; i += batchSize) await insert(rows.slice(i, i + batchSize));
}

/**
 * Writes a realistic, deterministic data set: users (one shared password hash), follows, jobs across
 * {@link LOCATIONS} x categories x the four types, and posts.
 *
 * @throws DatabaseNotEmptyError when users exist and `reset` is not set.
 */
export async function seedDatabase(
  db: Db,
  sizes: SeedSizes,
  options: { reset?: boolean } = {},
): Promise<SeedResult> {
  const [{ existing }] = await db.select({ existing: count() }).from(users);
  if (existing > 0) {
    if (!options.reset) throw new DatabaseNotEmptyError();
    await db.execute(sql`TRUNCATE follows, posts, jobs, users RESTART IDENTITY CASCADE`);
  }
  const random = createRandom(sizes.seed ?? 42);
  const passwordHash = await hashPassword(SEED_PASSWORD);
  const userCount = sizes.users > 0 ? sizes.users : sizes.jobs + sizes.posts > 0 ? 1 : 0;

  const userRows = Array.from({ length: userCount }, (_, i) => {
    const location = random.pick(LOCATIONS);
    const createdAt = pastDate(random, 720, 200);
    return {
      email: `user${i + 1}@example.com`,
      passwordHash,
      name: `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`,
      bio: random.chance(0.6)
        ? fill(random.pick(BIOS), random, { category: random.pick(CATEGORIES), location })
        : null,
      createdAt,
      updatedAt: createdAt,
    };
  });
  await insertInBatches(userRows, (batch) => db.insert(users).values(batch));

  // Serial ids start at 1 after a reset or on a fresh database; read them back rather than assume.
  const userIds = (await db.select({ id: users.id }).from(users).orderBy(users.id)).map((row) => row.id);

  const followRows: { followerId: number; followeeId: number; createdAt: Date }[] = [];
  const maxFollows = Math.min(sizes.maxFollowsPerUser ?? 10, Math.max(0, userIds.length - 1));
  for (const followerId of userIds) {
    const followees = new Set<number>();
    const wanted = random.int(0, maxFollows);
    while (followees.size < wanted) {
      const followeeId = random.pick(userIds);
      if (followeeId !== followerId) followees.add(followeeId);
    }
    for (const followeeId of followees)
      followRows.push({ followerId, followeeId, createdAt: pastDate(random, 200) });
  }
  await insertInBatches(followRows, (batch) => db.insert(follows).values(batch), 5_000);

  const jobRows = Array.from({ length: userIds.length > 0 ? sizes.jobs : 0 }, () => {
    const category = random.pick(CATEGORIES);
    const location = random.pick(LOCATIONS);
    const level = random.pick(LEVELS);
    const role = random.pick(ROLES_BY_CATEGORY[category]);
    const salaryMin = random.chance(0.7) ? random.int(30, 120) * 1_000 : null;
    const createdAt = pastDate(random, 180);
    const sentences = random
      .sample(DESCRIPTION_SENTENCES, random.int(2, 4))
      .map((sentence) => fill(sentence, random, { category, location }));
    return {
      title: level ? `${level} ${role}` : role,
      company: `${random.pick(COMPANY_STEMS)} ${random.pick(COMPANY_SUFFIXES)}`,
      location,
      category,
      type: random.pick(random.chance(0.7) ? (['full-time'] as const) : JOB_TYPES),
      status: random.chance(0.85) ? ('active' as const) : ('closed' as const),
      description: sentences.join(' '),
      salaryMin,
      salaryMax: salaryMin === null ? null : salaryMin + random.int(5, 60) * 1_000,
      postedBy: random.pick(userIds),
      createdAt,
      updatedAt: createdAt,
    };
  });
  await insertInBatches(jobRows, (batch) => db.insert(jobs).values(batch));

  const postRows = Array.from({ length: userIds.length > 0 ? sizes.posts : 0 }, () => {
    const createdAt = pastDate(random, 120);
    return {
      content: fill(random.pick(POST_TEMPLATES), random, {
        category: random.pick(CATEGORIES),
        location: random.pick(LOCATIONS),
      }),
      authorId: random.pick(userIds),
      createdAt,
      updatedAt: createdAt,
    };
  });
  await insertInBatches(postRows, (batch) => db.insert(posts).values(batch));

  return { users: userRows.length, jobs: jobRows.length, posts: postRows.length, follows: followRows.length };
}

/** @returns whether the database has no users (the signal for seeding an empty embedded database on start). */
export async function isDatabaseEmpty(db: Db): Promise<boolean> {
  const [{ existing }] = await db.select({ existing: count() }).from(users);
  return existing === 0;
}
