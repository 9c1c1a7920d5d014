import { Injectable } from '@nestjs/common';
import { InvalidatesCache } from '@jobboard/redis-cache';
import type { JobRow } from '../database/schema.js';

type ListedFields = Pick<JobRow, 'status' | 'location' | 'category' | 'type'>;
/** The filters a list is keyed on; undefined: not filtered on. */
type ListFilter = [status: string, location?: string, category?: string, type?: string];

/**
 * What a job write invalidates, in one bump (the calls below are made in one tick, which the cache joins): the
 * job's item, the stats, every similar-jobs answer (any job can become or stop being similar to another), and only
 * the lists the job was or is in, rather than every list.
 *
 * A list always filters on status and optionally on location, category and type, and its key starts with those
 * four (JobsController.list), so a job with status s, location l, category c and type t can only be in lists under
 * one of the 8 prefixes `jobs:list:s:{l or none}:{c or none}:{t or none}:` (search, skip and limit come after
 * them). A write invalidates those of the row before it and of the row after it: a job that moves from Berlin to
 * Oslo leaves the Berlin lists and enters the Oslo ones, and the Paris lists stay cached. On the day benchmark's
 * traffic (0.3% of requests are job updates) a bump of all of `jobs:list:` per write kept lists at 38% hits.
 */
@Injectable()
export class JobWritesInvalidation {
  /** After a write of job `id` whose row was `rows[0]` and is `rows[1]` (one of them for a create or a delete). */
  async afterWrite(id: number, rows: readonly ListedFields[]): Promise<void> {
    const filters = new Map<string, ListFilter>();
    for (const { status, location, category, type } of rows)
      for (let unfiltered = 0; unfiltered < 8; unfiltered++) {
        const filter: ListFilter = [
          status,
          unfiltered & 1 ? undefined : location,
          unfiltered & 2 ? undefined : category,
          unfiltered & 4 ? undefined : type,
        ];
        filters.set(JSON.stringify(filter), filter);
      }
    await Promise.all([
      this.jobChanged(id),
      ...[...filters.values()].map((filter) => this.listsFiltering(...filter)),
    ]);
  }

  @InvalidatesCache('jobs:item:{0}', 'jobs:stats:', 'jobs:similar:')
  async jobChanged(id: number): Promise<void> {
    void id;
  }

  /** One prefix: an undefined filter renders as "not filtered on", as an absent query parameter does in the key. */
  @InvalidatesCache('jobs:list:{0}:{1}:{2}:{3}:')
  async listsFiltering(status: string, location?: string, category?: string, type?: string): Promise<void> {
    void [status, location, category, type];
  }
}
