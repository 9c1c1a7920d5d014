import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI description of a user profile (the shape UsersRepository returns). */
export class UserProfileDto {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty() name: string;
  @ApiProperty({ type: String, nullable: true }) bio: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: 'integer' }) followersCount: number;
  @ApiProperty({ type: 'integer' }) followingCount: number;
  @ApiProperty({ description: 'Whether the viewer follows this user (false when anonymous)' })
  isFollowing: boolean;
  @ApiPropertyOptional({ description: 'Only to the user themself' }) email?: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserProfileDto] }) items: UserProfileDto[];
  @ApiProperty({ type: 'integer' }) total: number;
  @ApiProperty({ type: 'integer' }) skip: number;
  @ApiProperty({ type: 'integer' }) limit: number;
}
