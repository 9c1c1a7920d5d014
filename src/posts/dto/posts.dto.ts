import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsString, MaxLength, MinLength } from 'class-validator';
import { PaginationQuery } from '../../common/dto/pagination.query.js';
import { INT4_MAX, IsId, IsSafeText, ToBoolean, Trim } from '../../common/validation/validators.js';

export class ListPostsQuery extends PaginationQuery {
  @ApiPropertyOptional({
    description: 'true: only posts by authors the viewer follows (needs auth)',
    default: false,
  })
  @ToBoolean()
  @IsBoolean()
  following: boolean = false;
}

export class UserIdParams {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: INT4_MAX })
  @IsId()
  userId: number;
}

export class PostContentDto {
  @ApiProperty({ minLength: 1, maxLength: 5_000 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(5_000)
  @IsSafeText()
  content: string;
}

export class AuthorDto {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty() name: string;
}

/** OpenAPI description of a post as the API returns it. */
export class PostDto {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty() content: string;
  @ApiProperty({ type: 'integer' }) authorId: number;
  @ApiProperty({ type: AuthorDto }) author: AuthorDto;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt: string;
}

export class PostPageDto {
  @ApiProperty({ type: [PostDto] }) items: PostDto[];
  @ApiProperty({ type: 'integer' }) total: number;
  @ApiProperty({ type: 'integer' }) skip: number;
  @ApiProperty({ type: 'integer' }) limit: number;
}
