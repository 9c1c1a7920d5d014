import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATUSES, JOB_TYPES } from '../../database/schema.js';

/** OpenAPI description of a job as the API returns it. */
export class JobDto {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty() title: string;
  @ApiProperty() company: string;
  @ApiProperty() location: string;
  @ApiProperty() category: string;
  @ApiProperty({ enum: JOB_TYPES }) type: string;
  @ApiProperty({ enum: JOB_STATUSES }) status: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'integer', nullable: true }) salaryMin: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) salaryMax: number | null;
  @ApiProperty({ type: 'integer', description: 'Id of the user who posted it' }) postedBy: number;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt: string;
}

export class SimilarJobDto extends JobDto {
  @ApiProperty({
    description:
      'How alike the two jobs read, 0..1: (2 x trigram similarity of titles + of descriptions) / 3',
    minimum: 0,
    maximum: 1,
  })
  similarity: number;
}

export class SimilarJobsDto {
  @ApiProperty({ type: [SimilarJobDto], description: 'Active jobs, most similar first' })
  items: SimilarJobDto[];
  @ApiProperty({ type: 'integer' }) limit: number;
}

export class JobPageDto {
  @ApiProperty({ type: [JobDto] }) items: JobDto[];
  @ApiProperty({ type: 'integer' }) total: number;
  @ApiProperty({ type: 'integer' }) skip: number;
  @ApiProperty({ type: 'integer' }) limit: number;
}

export class CountByValueDto {
  @ApiProperty() value: string;
  @ApiProperty({ type: 'integer' }) count: number;
}

export class JobStatsDto {
  @ApiProperty({ type: 'integer', description: 'All jobs, active and closed' }) total: number;
  @ApiProperty({ type: 'integer' }) active: number;
  @ApiProperty({ type: [CountByValueDto], description: 'Active jobs per category' })
  byCategory: CountByValueDto[];
  @ApiProperty({ type: [CountByValueDto], description: 'Active jobs per type' }) byType: CountByValueDto[];
  @ApiProperty({ type: [CountByValueDto], description: 'Active jobs per location' })
  byLocation: CountByValueDto[];
}
