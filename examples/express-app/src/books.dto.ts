import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Min } from 'class-validator';

export class ListBooksQuery {
  @IsOptional()
  @IsString()
  @Length(1, 100)
  author?: string;
}

export class BookParams {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  id: number;
}

export class NewBook {
  @IsString()
  @Length(1, 200)
  title: string;

  @IsString()
  @Length(1, 100)
  author: string;
}

export class Rename {
  @IsString()
  @Length(1, 200)
  title: string;
}
