import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PaginationQuery } from '../../common/dto/pagination.query.js';
import { IsSafeText } from '../../common/validation/validators.js';
import { JOB_STATUSES, JOB_TYPES, type JobStatus, type JobType } from '../../database/schema.js';

export class ListJobsQuery extends PaginationQuery {
  @ApiPropertyOptional({
    description: 'Case-insensitive substring of title, company or description',
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @IsSafeText()
  search?: string;

  @ApiPropertyOptional({ example: 'Berlin', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSafeText()
  location?: string;

  @ApiPropertyOptional({ example: 'Engineering', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSafeText()
  category?: string;

  @ApiPropertyOptional({ enum: JOB_TYPES })
  @IsOptional()
  @IsIn(JOB_TYPES)
  type?: JobType;

  @ApiPropertyOptional({ enum: JOB_STATUSES, default: 'active' })
  @IsIn(JOB_STATUSES)
  status: JobStatus = 'active';
}
