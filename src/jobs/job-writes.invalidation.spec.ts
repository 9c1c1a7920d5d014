import { describe, expect, it, jest } from '@jest/globals';
import { JobWritesInvalidation } from './job-writes.invalidation.js';

const berlin = { status: 'active', location: 'Berlin', category: 'Engineering', type: 'full-time' } as const;

/** The list prefixes afterWrite asks for, as `jobs:list:` would render them (`~`: not filtered on). */
async function prefixesFor(rows: Parameters<JobWritesInvalidation['afterWrite']>[1]) {
  const lists = new JobWritesInvalidation();
  const calls: string[] = [];
  jest.spyOn(lists, 'listsFiltering').mockImplementation(async (...filter) => {
    calls.push(filter.map((value) => value ?? '~').join(':'));
  });
  jest.spyOn(lists, 'jobChanged').mockResolvedValue(undefined);
  await lists.afterWrite(7, rows);
  return calls.sort();
}

describe('JobWritesInvalidation', () => {
  it('names the 8 lists a job can be in: its status, and each other filter its value or unfiltered', async () => {
    expect(await prefixesFor([berlin])).toEqual(
      [
        'active:Berlin:Engineering:full-time',
        'active:Berlin:Engineering:~',
        'active:Berlin:~:full-time',
        'active:Berlin:~:~',
        'active:~:Engineering:full-time',
        'active:~:Engineering:~',
        'active:~:~:full-time',
        'active:~:~:~',
      ].sort(),
    );
  });

  it('covers both versions of an update once each: what they share is invalidated once', async () => {
    const moved = { ...berlin, location: 'Oslo' };
    const prefixes = await prefixesFor([berlin, moved]);
    expect(prefixes).toHaveLength(12);
    expect(new Set(prefixes).size).toBe(12);
    expect(prefixes).toEqual(
      expect.arrayContaining(['active:Oslo:~:~', 'active:Berlin:~:~', 'active:~:~:~']),
    );
    const closed = await prefixesFor([berlin, { ...berlin, status: 'closed' }]);
    expect(closed).toHaveLength(16);
    expect(closed).toContain('closed:~:~:~');
  });
});
