import { Injectable, Logger } from '@nestjs/common';
import type { DatabaseTrouble } from './database-errors.js';

/**
 * Requests that failed because the database could not serve them: counted for `/metrics`, and logged at most once
 * per 10 s with how many were suppressed, so an outage is a line every 10 s, not one per request.
 */
@Injectable()
export class DatabaseOutages {
  /** By kind, since start: what `/metrics` reports. */
  readonly counts: Record<DatabaseTrouble, number> = { timeout: 0, unavailable: 0 };
  private readonly logger = new Logger('Database');
  private readonly windowMs = 10_000;
  private lastLogged = -Infinity;
  private suppressed = 0;

  report(kind: DatabaseTrouble, detail: string, now = Date.now()): void {
    this.counts[kind]++;
    if (now - this.lastLogged < this.windowMs) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed > 0 ? ` (${this.suppressed} more since the last report)` : '';
    this.lastLogged = now;
    this.suppressed = 0;
    this.logger.warn(
      `database ${kind === 'timeout' ? 'too slow' : 'unavailable'}: ${detail}; answering 503${more}`,
    );
  }
}
