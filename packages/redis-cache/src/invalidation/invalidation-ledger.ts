/**
 * This process's record of invalidations, in the order it learnt them: its own generation bumps and those
 * announced by other instances. Anything filled or started under a snapshot is current as long as none of its
 * generation keys was bumped after that snapshot. Costs a Map lookup per key, and never grows past `maxKeys`.
 */
export class InvalidationLedger {
  private sequence = 0;
  /** Keys not in the map count as bumped at this point: raised when the map is emptied to stay bounded. */
  private floor = 0;
  private readonly lastBump = new Map<string, number>();

  constructor(private readonly maxKeys = 100_000) {}

  /** The current point in the sequence; a bump after it makes a fill snapshotted here out of date. */
  snapshot(): number {
    return this.sequence;
  }

  bump(keys: readonly string[]): void {
    if (this.lastBump.size + keys.length > this.maxKeys) {
      // Forgetting which keys were bumped is safe only if every earlier snapshot stops being current.
      this.lastBump.clear();
      this.floor = this.sequence + 1;
    }
    const position = ++this.sequence;
    for (const key of keys) this.lastBump.set(key, position);
  }

  /** Makes every earlier snapshot out of date (everything filled so far must be re-validated). */
  bumpAll(): void {
    this.lastBump.clear();
    this.floor = ++this.sequence;
  }

  isCurrent(keys: readonly string[], snapshot: number): boolean {
    for (const key of keys) if ((this.lastBump.get(key) ?? this.floor) > snapshot) return false;
    return true;
  }
}
