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
}
