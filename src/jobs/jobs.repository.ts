import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, desc, eq, getTableColumns, ilike, ne, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { containsPattern } from '../common/dto/search.util.js';
import { DB } from '../database/database.constants.js';
import type { Db } from '../database/database.types.js';
import { jobs, type JobRow } from '../database/schema.js';
import type { ListJobsQuery } from './dto/list-jobs.query.js';
import type { CreateJobDto } from './dto/create-job.dto.js';
import type { UpdateJobDto } from './dto/update-job.dto.js';

export interface CountByValue {
  value: string;
  count: number;
}

export type SimilarJob = JobRow & { similarity: number };

/** How many jobs with similar titles are ranked by their descriptions too (see JobsRepository.similar). */
const SIMILAR_CANDIDATES = 50;

export interface JobStats {
  total: number;
  active: number;
  byCategory: CountByValue[];
  byType: CountByValue[];
  byLocation: CountByValue[];
}

/** All SQL about jobs. */
@Injectable()
export class JobsRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  /** @returns a page of jobs matching the filter, newest first (createdAt DESC, id DESC), and the match count. */
  async list(filter: ListJobsQuery): Promise<{ items: JobRow[]; total: number }> {
    const pattern = filter.search ? containsPattern(filter.search) : undefined;
    const where: SQL | undefined = and(
      eq(jobs.status, filter.status),
      filter.location ? eq(jobs.location, filter.location) : undefined,
      filter.category ? eq(jobs.category, filter.category) : undefined,
      filter.type ? eq(jobs.type, filter.type) : undefined,
      pattern
        ? or(ilike(jobs.title, pattern), ilike(jobs.company, pattern), ilike(jobs.description, pattern))
        : undefined,
    );
    const [items, [{ total }]] = await Promise.all([
      this.db
        .select()
        .from(jobs)
        .where(where)
        .orderBy(desc(jobs.createdAt), desc(jobs.id))
        .offset(filter.skip)
        .limit(filter.limit),
      this.db.select({ total: count() }).from(jobs).where(where),
    ]);
    return { items, total };
  }

  async findById(id: number): Promise<JobRow | undefined> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id));
    return row;
  }

  /**
   * The active jobs most like job `id`, in one statement, in two stages: the 50 active jobs whose titles are most
   * similar (pg_trgm `%` on the title's trigram index: similarity above pg_trgm's threshold, 0.3 by default), then
   * those ranked by (2 x title similarity + description similarity) / 3. Comparing every description would cost
   * about 20 times more (730 ms against 36 ms on the 10,000-job seed). Undefined when the job does not exist.
   */
  async similar(id: number, limit: number): Promise<SimilarJob[] | undefined> {
    const source = this.db
      .$with('source')
      .as(
        this.db
          .select({ id: jobs.id, title: jobs.title, description: jobs.description })
          .from(jobs)
          .where(eq(jobs.id, id)),
      );
    const titleScore = sql<number>`similarity(${jobs.title}, ${source.title})`;
    const candidates = this.db.$with('candidates').as(
      this.db
        .select({ ...getTableColumns(jobs), titleScore: titleScore.as('title_score') })
        .from(source)
        .innerJoin(
          jobs,
          and(eq(jobs.status, 'active'), ne(jobs.id, source.id), sql`${jobs.title} % ${source.title}`),
        )
        .orderBy(desc(titleScore), desc(jobs.id))
        .limit(SIMILAR_CANDIDATES),
    );
    const { titleScore: candidateTitleScore, ...candidateColumns } = candidates._.selectedFields;
    const score = sql<number>`(2 * ${candidateTitleScore} + similarity(${candidates.description}, ${source.description})) / 3`;
    const rows = await this.db
      .with(source, candidates)
      .select({ sourceId: source.id, job: candidateColumns, score })
      .from(source)
      .leftJoin(candidates, sql`true`)
      .orderBy(desc(score), desc(candidates.createdAt), desc(candidates.id))
      .limit(limit);
    if (rows.length === 0) return undefined;
    return rows.flatMap(({ job, score }) =>
      job?.id == null ? [] : [{ ...(job as JobRow), similarity: Math.round(Number(score) * 1000) / 1000 }],
    );
  }

  async create(job: CreateJobDto, postedBy: number): Promise<JobRow> {
    const [row] = await this.db
      .insert(jobs)
      .values({ ...job, postedBy })
      .returning();
    return row;
  }

  /**
   * @returns the row before and after the change, undefined when there is none. The row is locked from the read of
   * `before` to the commit, so two concurrent updates each see the other's result as their `before` (the cached
   * lists of both versions get invalidated; read unlocked, the first update's version could be missed).
   */
  async update(id: number, changes: UpdateJobDto): Promise<{ before: JobRow; after: JobRow } | undefined> {
    return this.db.transaction(async (tx) => {
      const [before] = await tx.select().from(jobs).where(eq(jobs.id, id)).for('update');
      if (!before) return undefined;
      const [after] = await tx
        .update(jobs)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(eq(jobs.id, id))
        .returning();
      return { before, after };
    });
  }

  /** @returns the row deleted, undefined when there was none. */
  async delete(id: number): Promise<JobRow | undefined> {
    const [row] = await this.db.delete(jobs).where(eq(jobs.id, id)).returning();
    return row;
  }

  /** Totals over all jobs; breakdowns over active jobs (what a visitor can apply to), largest first. */
  async stats(): Promise<JobStats> {
    const [[totals], byCategory, byType, byLocation] = await Promise.all([
      this.db
        .select({ total: count(), active: count(sql`CASE WHEN ${jobs.status} = 'active' THEN 1 END`) })
        .from(jobs),
      this.countActiveBy(jobs.category),
      this.countActiveBy(jobs.type),
      this.countActiveBy(jobs.location),
    ]);
    return { total: totals.total, active: totals.active, byCategory, byType, byLocation };
  }

  private countActiveBy(column: PgColumn): Promise<CountByValue[]> {
    return this.db
      .select({ value: sql<string>`${column}::text`, count: count() })
      .from(jobs)
      .where(eq(jobs.status, 'active'))
      .groupBy(column)
      .orderBy(desc(count()), asc(column));
  }
}
