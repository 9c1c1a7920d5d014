import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, desc, eq, ilike, ne, or, sql, type SQL } from 'drizzle-orm';
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
   * The active jobs most like job `id`, by pg_trgm similarity of title (twice the weight) and description, in one
   * statement: candidates come from the trigram indexes the search uses (`%`: similarity above pg_trgm's threshold,
   * 0.3 by default). Undefined when the job does not exist.
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
    const score = sql<number>`(2 * similarity(${jobs.title}, ${source.title}) + similarity(${jobs.description}, ${source.description})) / 3`;
    const rows = await this.db
      .with(source)
      .select({ sourceId: source.id, job: jobs, score })
      .from(source)
      .leftJoin(
        jobs,
        and(
          eq(jobs.status, 'active'),
          ne(jobs.id, source.id),
          or(sql`${jobs.title} % ${source.title}`, sql`${jobs.description} % ${source.description}`),
        ),
      )
      .orderBy(desc(score), desc(jobs.createdAt), desc(jobs.id))
      .limit(limit);
    if (rows.length === 0) return undefined;
    return rows.flatMap(({ job, score }) =>
      job ? [{ ...job, similarity: Math.round(Number(score) * 1000) / 1000 }] : [],
    );
  }

  async create(job: CreateJobDto, postedBy: number): Promise<JobRow> {
    const [row] = await this.db
      .insert(jobs)
      .values({ ...job, postedBy })
      .returning();
    return row;
  }

  async update(id: number, changes: UpdateJobDto): Promise<JobRow | undefined> {
    const [row] = await this.db
      .update(jobs)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(eq(jobs.id, id))
      .returning();
    return row;
  }

  async delete(id: number): Promise<void> {
    await this.db.delete(jobs).where(eq(jobs.id, id));
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
