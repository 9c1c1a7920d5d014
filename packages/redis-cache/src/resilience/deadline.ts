import { performance } from 'node:perf_hooks';

/** Above this share of the deadline spent running JavaScript, a miss is the event loop's, not Redis's. */
const BUSY_LOOP_SHARE = 0.5;

/** Rejection of {@link withDeadline}: the operation did not settle in time (it may still settle later). */
export class DeadlineExceeded extends Error {
  /**
   * @param loopBusy whether this process's event loop was busy for most of the wait: the reply may have been
   *   late because nothing read it, so the miss says nothing about Redis.
   */
  constructor(
    readonly deadlineMs: number,
    readonly loopBusy = false,
  ) {
    super(`no answer within ${deadlineMs} ms${loopBusy ? ' (the event loop was busy)' : ''}`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Settles like `operation`, or rejects with {@link DeadlineExceeded} after `deadlineMs`. node-redis timeouts do not
 * cover commands already written to a frozen server (RELIABILITY.md §1), so this is the only true bound.
 *
 * Fair to Redis when the process is the slow one: a timer that comes due while the loop was blocked runs before
 * the I/O that arrived meanwhile, so the verdict waits one turn (setImmediate runs after the poll phase has read
 * pending sockets) and a reply that had arrived wins. A miss during which the loop was busy more than half the
 * time (event-loop utilisation, perf_hooks) is marked `loopBusy`.
 */
export function withDeadline<T>(operation: Promise<T>, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const startedUtilisation = performance.eventLoopUtilization();
  // The operation may still settle after the deadline: keep its rejection from going unhandled.
  operation.then(
    () => (settled = true),
    () => (settled = true),
  );
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          const { utilization } = performance.eventLoopUtilization(startedUtilisation);
          reject(new DeadlineExceeded(deadlineMs, utilization > BUSY_LOOP_SHARE));
        }),
      deadlineMs,
    );
  });
  return Promise.race([operation, deadline]).finally(() => clearTimeout(timer));
}
