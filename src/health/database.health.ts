import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DATABASE_CONNECTION } from '../database/database.constants.js';
import type { DatabaseConnection } from '../database/database.types.js';

const PING_DEADLINE_MS = 1_000;

/** `up` when the database answers a trivial query within a second; `down` (never a throw) otherwise. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(DATABASE_CONNECTION) private readonly database: DatabaseConnection,
  ) {}

  async check(key: string) {
    const indicator = this.health.check(key);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.database.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), PING_DEADLINE_MS);
        }),
      ]);
      return indicator.up({
        driver: this.database.driver,
        latencyMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      const reason = error instanceof Error && error.message === 'timed out' ? 'timed out' : 'unreachable';
      return indicator.down({ driver: this.database.driver, message: `database ${reason}` });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * For `/health/serving`: `up` either way, with `reachable` saying whether the database answered. While it does
   * not, this instance still answers every cached page (X-Cache: STALE, for the grace period); only writes and
   * uncached reads answer 503, as every other instance's would.
   */
  async serving(key: string) {
    const result = await this.check(key);
    const { status: _status, ...details } = result[key] as { status: string } & Record<string, unknown>;
    const reachable = result[key].status === 'up';
    const note = reachable
      ? {}
      : { failSafe: 'cached answers keep coming (X-Cache: STALE); writes and uncached reads answer 503' };
    return this.health.check(key).up({ ...details, reachable, ...note });
  }
}
