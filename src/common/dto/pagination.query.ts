import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIntBetween } from '../validation/validators.js';

export const MAX_SKIP = 1_000_000;
export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;

/** `skip` and `limit` of every list, with their defaults applied so `?limit=20` and no limit mean the same. */
export class PaginationQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_SKIP, default: 0 })
  @IsIntBetween(0, MAX_SKIP)
  skip: number = 0;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })
  @IsIntBetween(1, MAX_LIMIT)
  limit: number = DEFAULT_LIMIT;
}

/** The shape of every list response. */
export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}
