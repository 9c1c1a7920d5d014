import { ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { JOB_STATUSES, type JobStatus } from '../../database/schema.js';
import { CreateJobDto } from './create-job.dto.js';

/** Every field of a job may change, and a job can be closed (`status: 'closed'`) or reopened. */
export class UpdateJobDto extends PartialType(CreateJobDto) {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;
}
