import type { Logger } from '@nestjs/common';

/** Logs a kind of failure at most once per window, with how many were suppressed, so an outage is one line. */
export class FailureLog {
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly windowMs = 10_000,
    private readonly now = () => Date.now(),
  ) {}

  report(kind: string, message: string): void {
    const now = this.now();
    const last = this.lastLogged.get(kind);
    if (last !== undefined && now - last < this.windowMs) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
      return;
    }
    const skipped = this.suppressed.get(kind) ?? 0;
    this.suppressed.delete(kind);
    this.lastLogged.set(kind, now);
    this.logger.warn(skipped > 0 ? `${message} (${skipped} more since the last report)` : message);
  }
}
