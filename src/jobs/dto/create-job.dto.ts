import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { INT4_MAX, IsSafeText, Trim } from '../../common/validation/validators.js';
import { JOB_TYPES, type JobType } from '../../database/schema.js';

/** salaryMax, when both bounds are given, is not below salaryMin. */
function IsNotBelowSalaryMin() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isNotBelowSalaryMin',
      target: target.constructor,
      propertyName,
      options: { message: (args: ValidationArguments) => `${args.property} must not be less than salaryMin` },
      validator: {
        validate: (value: unknown, args: ValidationArguments) => {
          const min = (args.object as { salaryMin?: unknown }).salaryMin;
          return typeof value !== 'number' || typeof min !== 'number' || value >= min;
        },
      },
    });
}

export class CreateJobDto {
  @ApiProperty({ example: 'Senior Backend Engineer', minLength: 1, maxLength: 200 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @IsSafeText()
  title: string;

  @ApiProperty({ example: 'Acme Labs', minLength: 1, maxLength: 200 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @IsSafeText()
  company: string;

  @ApiProperty({ example: 'Berlin', minLength: 1, maxLength: 100 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSafeText()
  location: string;

  @ApiProperty({ example: 'Engineering', minLength: 1, maxLength: 100 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSafeText()
  category: string;

  @ApiProperty({ enum: JOB_TYPES })
  @IsIn(JOB_TYPES)
  type: JobType;

  @ApiProperty({ minLength: 1, maxLength: 10_000 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(10_000)
  @IsSafeText()
  description: string;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: INT4_MAX })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  salaryMin?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: INT4_MAX })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  @ValidateIf((dto: CreateJobDto) => dto.salaryMax !== null && dto.salaryMax !== undefined)
  @IsNotBelowSalaryMin()
  salaryMax?: number | null;
}
