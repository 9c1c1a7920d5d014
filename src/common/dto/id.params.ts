import { ApiProperty } from '@nestjs/swagger';
import { INT4_MAX, IsId } from '../validation/validators.js';

/** `:id` route parameter: a positive int4. */
export class IdParams {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: INT4_MAX })
  @IsId()
  id: number;
}
