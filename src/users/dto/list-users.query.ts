import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PaginationQuery } from '../../common/dto/pagination.query.js';
import { IsSafeText } from '../../common/validation/validators.js';

export class ListUsersQuery extends PaginationQuery {
  @ApiPropertyOptional({ description: 'Case-insensitive substring of the name', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSafeText()
  search?: string;
}
