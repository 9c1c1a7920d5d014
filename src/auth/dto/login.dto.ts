import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { NormalizeEmail } from './register.dto.js';

export class LoginDto {
  @ApiProperty({ example: 'user1@example.com' })
  @NormalizeEmail()
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'password123' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password: string;
}
