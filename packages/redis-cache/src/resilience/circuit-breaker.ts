import { performance } from 'node:perf_hooks';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures (errors or deadline misses) that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe is let through. */
  coolDownMs?: number;
  now?: () => number;
  /** Told every change of state (for the `circuit` event). */
  onStateChange?: (state: CircuitState) => void;
}

/**
 * Skips Redis at no cost after repeated failures (RELIABILITY.md §1): while open, {@link allow} answers false
 * without a call; after the cool-down exactly one caller is let through as a probe (half-open), and its outcome
 * closes the circuit or opens it for another cool-down.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private openTotalMs = 0;
  private readonly failureThreshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;
  private readonly onStateChange: ((state: CircuitState) => void) | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.coolDownMs = options.coolDownMs ?? 1_000;
    this.now = options.now ?? (() => performance.now());
    this.onStateChange = options.onStateChange;
  }

  private enter(state: CircuitState): void {
    this.current = state;
    this.onStateChange?.(state);
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Total time spent not closed, including the current stretch. */
  get timeOpenMs(): number {
    return this.openTotalMs + (this.current === 'closed' ? 0 : this.now() - this.openedAt);
  }

  /** Whether a call may go to Redis now; in half-open, only the one probe may. */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open' && this.now() - this.openedAt >= this.coolDownMs) {
      this.enter('half-open');
      return true;
    }
    return false;
  }

  /** Lets the next call probe at once (the connection just came back), instead of waiting out the cool-down. */
  probeNow(): void {
    if (this.current === 'open') this.openedAt = this.now() - this.coolDownMs;
  }

  success(): void {
    this.consecutiveFailures = 0;
    if (this.current !== 'closed') {
      this.openTotalMs += this.now() - this.openedAt;
      this.enter('closed');
    }
  }

  failure(): void {
    this.consecutiveFailures++;
    if (this.current === 'half-open') {
      // The probe failed: another full cool-down, counted as one stretch of time open.
      this.enter('open');
      this.openTotalMs += this.now() - this.openedAt;
      this.openedAt = this.now();
    } else if (this.current === 'closed' && this.consecutiveFailures >= this.failureThreshold) {
      this.enter('open');
      this.openedAt = this.now();
    }
  }
}
