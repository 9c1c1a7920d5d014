import type { InvalidationOutbox, OutboxRecord } from '../../src/index.js';

/**
 * An outbox in this process's memory, shared by the instances of a test as a database table would be: claims that
 * expire, completion that removes, a notification per record. Not durable, so for tests only.
 */
export class MemoryOutbox implements InvalidationOutbox {
  private next = 1;
  private readonly rows = new Map<string, OutboxRecord & { claimedUntil: number }>();
  private readonly listeners = new Set<() => void>();

  /** While set, `record` fails, as a database that is down would. */
  failing = false;

  async record(generationKeys: string[]): Promise<void> {
    if (this.failing) throw new Error('outbox unavailable');
    const id = String(this.next++);
    this.rows.set(id, { id, generationKeys, recordedAt: Date.now(), claimedUntil: 0 });
    for (const listener of this.listeners) listener();
  }

  async claim(limit: number, claimMs: number): Promise<OutboxRecord[]> {
    const now = Date.now();
    const claimed = [...this.rows.values()].filter((row) => row.claimedUntil <= now).slice(0, limit);
    for (const row of claimed) row.claimedUntil = now + claimMs;
    return claimed.map(({ id, generationKeys, recordedAt }) => ({ id, generationKeys, recordedAt }));
  }

  async complete(ids: string[]): Promise<void> {
    for (const id of ids) this.rows.delete(id);
  }

  async release(ids: string[]): Promise<void> {
    for (const id of ids) {
      const row = this.rows.get(id);
      if (row) row.claimedUntil = 0;
    }
  }

  /** Records without notifying anyone, as an instance whose notification was lost would. */
  async recordSilently(generationKeys: string[]): Promise<void> {
    const id = String(this.next++);
    this.rows.set(id, { id, generationKeys, recordedAt: Date.now(), claimedUntil: 0 });
  }

  async depth() {
    const oldest = Math.min(...[...this.rows.values()].map((row) => row.recordedAt));
    return { records: this.rows.size, oldestAgeMs: this.rows.size ? Date.now() - oldest : null };
  }

  async subscribe(onRecord: () => void) {
    this.listeners.add(onRecord);
    return async () => void this.listeners.delete(onRecord);
  }

  get size(): number {
    return this.rows.size;
  }
}
