import { ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsIn, ValidateIf } from 'class-validator';
import { JOB_STATUSES, type JobStatus } from '../../database/schema.js';
import { CreateJobDto } from './create-job.dto.js';

/**
 * Every field of a job may change, and a job can be closed (`status: 'closed'`) or reopened.
 *
 * Only an absent field is skipped: `null` is validated like any other value, so `{"title": null}` is a 400 instead of
 * reaching a NOT NULL column. The salaries stay nullable through the `@IsOptional()` they inherit from CreateJobDto.
 */
export class UpdateJobDto extends PartialType(CreateJobDto, { skipNullProperties: false }) {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @ValidateIf((_dto: UpdateJobDto, value: unknown) => value !== undefined)
  @IsIn(JOB_STATUSES)
  status?: JobStatus;
}
