import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { Cached, InvalidatesCache } from '@jobboard/redis-cache';
import { BookParams, ListBooksQuery, NewBook, Rename } from './books.dto.js';
import { BooksStore } from './books.store.js';
import { ReaderGuard } from './reader.guard.js';

type Viewer = { user: { id: string } };

@Controller('books')
export class BooksController {
  constructor(private readonly store: BooksStore) {}

  @Get()
  @Cached('2m', 'books:list:{author}')
  list(@Query() query: ListBooksQuery) {
    return { items: this.store.list(query.author) };
  }

  /** Per viewer: the key carries `{user.id}`, so one reader's shelf is never another's. */
  @Get('shelf')
  @UseGuards(ReaderGuard)
  @Cached('1m', 'books:shelf:{user.id}')
  shelf(@Req() request: Viewer) {
    return { reader: request.user.id, items: this.store.shelf(request.user.id) };
  }

  @Get(':id')
  @Cached('5m', 'books:item:{id}')
  get(@Param() { id }: BookParams) {
    const book = this.store.get(id);
    if (!book) throw new NotFoundException(`no book ${id}`);
    return book;
  }

  @Post()
  @InvalidatesCache('books:list:')
  add(@Body() book: NewBook) {
    return this.store.add(book.title, book.author);
  }

  @Patch(':id')
  @InvalidatesCache('books:list:', 'books:item:{id}', 'books:shelf:')
  rename(@Param() { id }: BookParams, @Body() { title }: Rename) {
    const book = this.store.rename(id, title);
    if (!book) throw new NotFoundException(`no book ${id}`);
    return book;
  }

  @Put(':id/read')
  @HttpCode(204)
  @UseGuards(ReaderGuard)
  @InvalidatesCache('books:shelf:{user.id}')
  markRead(@Param() { id }: BookParams, @Req() request: Viewer) {
    if (!this.store.get(id)) throw new NotFoundException(`no book ${id}`);
    this.store.markRead(request.user.id, id);
  }
}
