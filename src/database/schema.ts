import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const JOB_TYPES = ['full-time', 'part-time', 'contract', 'internship'] as const;
export const JOB_STATUSES = ['active', 'closed'] as const;
export type JobType = (typeof JOB_TYPES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];

export const jobType = pgEnum('job_type', JOB_TYPES);
export const jobStatus = pgEnum('job_status', JOB_STATUSES);

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    /** Stored lower-cased: emails compare case-insensitively. */
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    name: text('name').notNull(),
    bio: text('bio'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_newest_idx').on(t.createdAt, t.id),
    index('users_name_trgm_idx').using('gin', t.name.op('gin_trgm_ops')),
  ],
);

export const jobs = pgTable(
  'jobs',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    company: text('company').notNull(),
    location: text('location').notNull(),
    category: text('category').notNull(),
    type: jobType('type').notNull(),
    status: jobStatus('status').notNull().default('active'),
    description: text('description').notNull(),
    salaryMin: integer('salary_min'),
    salaryMax: integer('salary_max'),
    postedBy: integer('posted_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    ...timestamps,
  },
  (t) => [
    // The list is "status (default active), newest first", optionally narrowed by location or category. Ascending
    // (created_at, id) indexes are scanned backwards for ORDER BY created_at DESC, id DESC (DESC means NULLS FIRST,
    // which a DESC NULLS LAST index could not serve).
    index('jobs_status_newest_idx').on(t.status, t.createdAt, t.id),
    index('jobs_location_status_newest_idx').on(t.location, t.status, t.createdAt, t.id),
    index('jobs_category_status_newest_idx').on(t.category, t.status, t.createdAt, t.id),
    index('jobs_posted_by_idx').on(t.postedBy),
    // Case-insensitive substring search (ILIKE '%term%') can use trigram indexes.
    index('jobs_title_trgm_idx').using('gin', t.title.op('gin_trgm_ops')),
    index('jobs_company_trgm_idx').using('gin', t.company.op('gin_trgm_ops')),
    index('jobs_description_trgm_idx').using('gin', t.description.op('gin_trgm_ops')),
    check(
      'jobs_salary_range_check',
      sql`${t.salaryMin} IS NULL OR ${t.salaryMax} IS NULL OR ${t.salaryMin} <= ${t.salaryMax}`,
    ),
  ],
);

export const posts = pgTable(
  'posts',
  {
    id: serial('id').primaryKey(),
    content: text('content').notNull(),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    ...timestamps,
  },
  (t) => [
    index('posts_newest_idx').on(t.createdAt, t.id),
    index('posts_author_newest_idx').on(t.authorId, t.createdAt, t.id),
  ],
);

export const follows = pgTable(
  'follows',
  {
    followerId: integer('follower_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    followeeId: integer('followee_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.followerId, t.followeeId] }),
    index('follows_followee_idx').on(t.followeeId, t.followerId),
    check('follows_not_self_check', sql`${t.followerId} <> ${t.followeeId}`),
  ],
);

/**
 * Cache invalidations an instance could not make in Redis, recorded before the write's response and applied by
 * whichever instance's relay reaches Redis first (src/database/invalidation-outbox.ts). Rows are deleted once applied.
 */
export const cacheInvalidationOutbox = pgTable('cache_invalidation_outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  generationKeys: text('generation_keys').array().notNull(),
  recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  claimedUntil: timestamp('claimed_until', { withTimezone: true, mode: 'date' }),
});

export const schema = { users, jobs, posts, follows, cacheInvalidationOutbox, jobType, jobStatus };
export type UserRow = typeof users.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type PostRow = typeof posts.$inferSelect;
