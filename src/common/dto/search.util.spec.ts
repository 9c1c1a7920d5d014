import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { openMemoryDatabase } from '../../../test/support/memory-database.js';
import type { DatabaseConnection } from '../../database/database.types.js';
import { containsPattern } from './search.util.js';

describe('containsPattern', () => {
  it.each([
    ['backend', '%backend%'],
    ['Senior Backend Engineer', '%Senior Backend Engineer%'],
    ['', '%%'],
    ['Zürich ☕', '%Zürich ☕%'],
    ['100%', '%100\\%%'],
    ['%', '%\\%%'],
    ['snake_case', '%snake\\_case%'],
    ['_', '%\\_%'],
    ['C:\\Temp', '%C:\\\\Temp%'],
    ['\\', '%\\\\%'],
    ['%_\\', '%\\%\\_\\\\%'],
    ['\\%', '%\\\\\\%%'],
    ['a%%b__c', '%a\\%\\%b\\_\\_c%'],
    // Not special in LIKE: left alone.
    ['*?[].^$', '%*?[].^$%'],
  ])('turns %p into %p', (term, expected) => {
    expect(containsPattern(term)).toBe(expected);
  });
});

describe('containsPattern against PostgreSQL ILIKE', () => {
  let database: DatabaseConnection;

  beforeAll(async () => {
    database = await openMemoryDatabase();
  }, 60_000);

  afterAll(async () => {
    await database?.close();
  });

  async function matches(text: string, term: string): Promise<boolean> {
    const result = (await database.db.execute(
      sql`SELECT ${text}::text ILIKE ${containsPattern(term)}::text AS matched`,
    )) as unknown as { rows: { matched: boolean }[] };
    return result.rows[0].matched;
  }

  it.each<[string, string, boolean]>([
    // Plain substrings, case-insensitively.
    ['Senior Backend Engineer', 'backend', true],
    ['Senior Backend Engineer', 'BACKEND ENG', true],
    ['Senior Backend Engineer', 'frontend', false],
    ['ZÜRICH', 'zürich', true],
    // % is a literal percent, not "anything".
    ['100% remote', '%', true],
    ['100% remote', '0% R', true],
    ['fully remote', '%', false],
    ['100 remote', '0% r', false],
    ['ab', 'a%b', false],
    ['a%b', 'A%B', true],
    // _ is a literal underscore, not "any one character".
    ['snake_case', '_', true],
    ['SNAKE_CASE', 'e_c', true],
    ['snake case', 'e_c', false],
    ['snakeXcase', 'e_c', false],
    ['ab', '_', false],
    // \ is a literal backslash, not an escape for the next character.
    ['C:\\Temp', '\\', true],
    ['c:\\temp', 'C:\\TEMP', true],
    ['C:Temp', '\\', false],
    ['C:Temp', ':\\T', false],
    ['C:\\Temp', ':\\T', true],
    ['50%', '\\%', false],
    ['5\\%', '\\%', true],
    ['a_b', '\\_', false],
    ['a\\_b', '\\_', true],
    // A term ending in a backslash must not produce a pattern PostgreSQL rejects.
    ['path\\', 'path\\', true],
    ['path', 'path\\', false],
  ])('%p ILIKE containsPattern(%p) is %p', async (text, term, expected) => {
    await expect(matches(text, term)).resolves.toBe(expected);
  });
});
