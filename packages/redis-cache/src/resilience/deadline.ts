/** Rejection of {@link withDeadline}: the operation did not settle in time (it may still settle later). */
export class DeadlineExceeded extends Error {
  constructor(readonly deadlineMs: number) {
    super(`no answer within ${deadlineMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Settles like `operation`, or rejects with {@link DeadlineExceeded} after `deadlineMs`. node-redis timeouts do not
 * cover commands already written to a frozen server (RELIABILITY.md §1), so this is the only true bound.
 */
export function withDeadline<T>(operation: Promise<T>, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // The operation may still settle after the deadline: keep its rejection from going unhandled.
  operation.catch(() => undefined);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(deadlineMs)), deadlineMs);
  });
  return Promise.race([operation, deadline]).finally(() => clearTimeout(timer));
}
