import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { JwtAuthGuard } from '../auth/auth.guards.js';
import { Cached } from '@jobboard/redis-cache';
import type { AuthUser } from '../auth/auth.types.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { IdParams } from '../common/dto/id.params.js';
import { CreateJobDto } from './dto/create-job.dto.js';
import { JobDto, JobPageDto, JobStatsDto, SimilarJobsDto } from './dto/job.response.js';
import { ListJobsQuery } from './dto/list-jobs.query.js';
import { SimilarJobsQuery } from './dto/similar-jobs.query.js';
import { UpdateJobDto } from './dto/update-job.dto.js';
import { JobsService } from './jobs.service.js';
import { ApiCachedResponse } from '../common/http/openapi-document.js';
import { jsonBytesFor, MaxBodyBytes } from '../common/validation/input-caps.js';

/** A job's text fields at their longest (the description is 10,000 characters). */
const JOB_BODY_BYTES = jsonBytesFor(200 + 200 + 100 + 100 + 10_000);

@ApiTags('jobs')
@Controller('api/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  // The filters first, in the order JobWritesInvalidation invalidates them: a write then refreshes only the lists
  // that can show the job it changed. Writes invalidate in JobsService, where the rows before and after are known.
  @Cached(120, 'jobs:list:{status}:{location}:{category}:{type}:{search}:{skip}:{limit}')
  @ApiCachedResponse(JobPageDto)
  @ApiOperation({ summary: 'List jobs, filtered and paged, newest first' })
  list(@Query() query: ListJobsQuery) {
    return this.jobs.list(query);
  }

  @Get('stats/overview')
  @Cached(300, 'jobs:stats:overview')
  @ApiCachedResponse(JobStatsDto)
  @ApiOperation({ summary: 'Job counts by status, category, type and location' })
  stats() {
    return this.jobs.stats();
  }

  @Get(':id')
  @Cached(120, 'jobs:item:{id}')
  @ApiCachedResponse(JobDto)
  @ApiNotFoundResponse()
  @ApiOperation({ summary: 'Get one job' })
  get(@Param() { id }: IdParams) {
    return this.jobs.get(id);
  }

  /** Computed and cached by JobsService.similar (10 min), not here: see there. */
  @Get(':id/similar')
  @ApiOkResponse({ type: SimilarJobsDto, description: 'Active jobs most like this one, most similar first' })
  @ApiNotFoundResponse()
  @ApiOperation({ summary: 'Jobs similar to one job' })
  similar(@Param() { id }: IdParams, @Query() { limit }: SimilarJobsQuery) {
    return this.jobs.similar(id, limit);
  }

  @Post()
  @MaxBodyBytes(JOB_BODY_BYTES)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: JobDto })
  @ApiOperation({ summary: 'Post a job' })
  create(@Body() dto: CreateJobDto, @CurrentUser() viewer: AuthUser) {
    return this.jobs.create(dto, viewer);
  }

  @Patch(':id')
  @MaxBodyBytes(JOB_BODY_BYTES)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: JobDto })
  @ApiForbiddenResponse({ description: 'Not the owner' })
  @ApiOperation({ summary: 'Edit a job you posted' })
  update(@Param() { id }: IdParams, @Body() dto: UpdateJobDto, @CurrentUser() viewer: AuthUser) {
    return this.jobs.update(id, dto, viewer);
  }

  @Delete(':id')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'Not the owner' })
  @ApiOperation({ summary: 'Delete a job you posted' })
  async delete(@Param() { id }: IdParams, @CurrentUser() viewer: AuthUser): Promise<void> {
    await this.jobs.delete(id, viewer);
  }
}
