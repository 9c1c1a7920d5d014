import { Injectable } from '@nestjs/common';

export interface Book {
  id: number;
  title: string;
  author: string;
}

/** The example's "database": books and who has read which, in memory. `queries` counts what the cache saves. */
@Injectable()
export class BooksStore {
  private readonly books = new Map<number, Book>([
    [1, { id: 1, title: 'The Left Hand of Darkness', author: 'Ursula K. Le Guin' }],
    [2, { id: 2, title: 'Invisible Cities', author: 'Italo Calvino' }],
  ]);
  private readonly readBy = new Map<string, Set<number>>();
  queries = 0;

  list(author: string | undefined): Book[] {
    this.queries++;
    return [...this.books.values()].filter((book) => author === undefined || book.author === author);
  }

  get(id: number): Book | undefined {
    this.queries++;
    return this.books.get(id);
  }

  add(title: string, author: string): Book {
    const book = { id: this.books.size + 1, title, author };
    this.books.set(book.id, book);
    return book;
  }

  rename(id: number, title: string): Book | undefined {
    const book = this.books.get(id);
    if (book) book.title = title;
    return book;
  }

  shelf(reader: string): Book[] {
    this.queries++;
    return [...(this.readBy.get(reader) ?? [])].map((id) => this.books.get(id)!);
  }

  markRead(reader: string, id: number): void {
    const shelf = this.readBy.get(reader) ?? new Set<number>();
    shelf.add(id);
    this.readBy.set(reader, shelf);
  }
}
