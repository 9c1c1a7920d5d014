import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIntBetween } from '../../common/validation/validators.js';

export const MAX_SIMILAR = 20;
export const DEFAULT_SIMILAR = 5;

/** `GET /api/jobs/:id/similar?limit`: how many similar jobs, 1..20, 5 unless given. */
export class SimilarJobsQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_SIMILAR, default: DEFAULT_SIMILAR })
  @IsIntBetween(1, MAX_SIMILAR)
  limit: number = DEFAULT_SIMILAR;
}
