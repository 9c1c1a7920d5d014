import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { IsSafeText } from '../../common/validation/validators.js';
import { NormalizeEmail } from './register.dto.js';

export class LoginDto {
  @ApiProperty({ format: 'email', example: 'user1@example.com' })
  @NormalizeEmail()
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  @IsSafeText()
  email: string;

  @ApiProperty({ example: 'password123' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password: string;
}
