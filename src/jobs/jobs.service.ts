import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { Cached } from '@jobboard/redis-cache';
import type { AuthUser } from '../auth/auth.types.js';
import type { Page } from '../common/dto/pagination.query.js';
import type { JobRow } from '../database/schema.js';
import { CreateJobDto } from './dto/create-job.dto.js';
import { ListJobsQuery } from './dto/list-jobs.query.js';
import { UpdateJobDto } from './dto/update-job.dto.js';
import { JobWritesInvalidation } from './job-writes.invalidation.js';
import { JobsRepository, type JobStats, type SimilarJob } from './jobs.repository.js';

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly invalidation: JobWritesInvalidation,
  ) {}

  async list(query: ListJobsQuery): Promise<Page<JobRow>> {
    const { items, total } = await this.jobs.list(query);
    return { items, total, skip: query.skip, limit: query.limit };
  }

  stats(): Promise<JobStats> {
    return this.jobs.stats();
  }

  async get(id: number): Promise<JobRow> {
    const job = await this.jobs.findById(id);
    if (!job) throw new NotFoundException(`Job ${id} not found`);
    return job;
  }

  /**
   * Active jobs most similar to job `id`. Cached here rather than on the route (the computation is the expensive
   * part, whoever asks): 10 minutes, and every job write invalidates `jobs:similar:` (JobWritesInvalidation), since
   * any job can become or stop being similar to any other.
   */
  @Cached('10m', 'jobs:similar:{0}:{1}')
  async similar(id: number, limit: number): Promise<{ items: SimilarJob[]; limit: number }> {
    const items = await this.jobs.similar(id, limit);
    if (!items) throw new NotFoundException(`Job ${id} not found`);
    return { items, limit };
  }

  /** Every write invalidates what it changed once it is committed, in one bump (JobWritesInvalidation). */
  async create(dto: CreateJobDto, viewer: AuthUser): Promise<JobRow> {
    const created = await this.jobs.create(dto, viewer.id);
    await this.invalidation.afterWrite(created.id, [created]);
    return created;
  }

  async update(id: number, dto: UpdateJobDto, viewer: AuthUser): Promise<JobRow> {
    const job = await this.getOwned(id, viewer);
    // The DTO compares the bounds only when the patch carries both; against the stored one, the database's check
    // constraint would answer with a message that names no field.
    const salaryMin = dto.salaryMin === undefined ? job.salaryMin : dto.salaryMin;
    const salaryMax = dto.salaryMax === undefined ? job.salaryMax : dto.salaryMax;
    if (salaryMin !== null && salaryMax !== null && salaryMax < salaryMin)
      throw new BadRequestException(['salaryMax must not be less than salaryMin']);
    const changed = await this.jobs.update(id, dto);
    if (!changed) throw new NotFoundException(`Job ${id} not found`);
    await this.invalidation.afterWrite(id, [changed.before, changed.after]);
    return changed.after;
  }

  async delete(id: number, viewer: AuthUser): Promise<JobRow> {
    const job = await this.getOwned(id, viewer);
    const deleted = await this.jobs.delete(id);
    await this.invalidation.afterWrite(id, deleted ? [deleted] : []);
    return deleted ?? job;
  }

  private async getOwned(id: number, viewer: AuthUser): Promise<JobRow> {
    const job = await this.get(id);
    if (job.postedBy !== viewer.id)
      throw new ForbiddenException('Only the user who posted this job can change it');
    return job;
  }
}
