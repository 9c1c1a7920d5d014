import { ApiProperty } from '@nestjs/swagger';
import { UserProfileDto } from '../../users/dto/user.response.js';

/** OpenAPI description of a login answer. */
export class AccessTokenDto {
  @ApiProperty({ description: 'Bearer token; expires after JWT_EXPIRES_IN' }) accessToken: string;
}

/** OpenAPI description of a registration answer: the owner's view (with email) and a token. */
export class RegisteredDto extends AccessTokenDto {
  @ApiProperty({ type: UserProfileDto }) user: UserProfileDto;
}
