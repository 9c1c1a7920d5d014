import { AsyncLocalStorage } from 'node:async_hooks';

/** Invalidations queued inside one transaction, applied once it committed. */
export interface DeferredInvalidations {
  /** How many invalidations are waiting for the commit. */
  readonly size: number;
  /**
   * The generation keys they will bump (physical Redis keys), for a data layer that records them in its own
   * transaction (an outbox) before committing; keys of SCAN fallbacks are not included.
   */
  generationKeys(): string[];
}

interface Scope extends DeferredInvalidations {
  work: { keys: string[]; apply(): Promise<void> }[];
}

const scopes = new AsyncLocalStorage<Scope>();

/**
 * Runs `transaction` (a function that runs a database transaction and resolves once it committed) with every
 * programmatic invalidation inside it deferred: `invalidate`, `delete`, `clear` and `@InvalidatesCache` on provider
 * methods called within it take effect after it resolved (the commit), before `runAfterCommit` resolves; when it
 * rejects (a rollback) they are dropped. Without this, a bump before the commit lets a concurrent reader fill
 * pre-commit rows under the new generation. Nested calls join the outermost transaction.
 *
 * ```ts
 * await runAfterCommit(() => db.transaction(async (tx) => { ...; await cache.invalidate('jobs:list:'); }));
 * ```
 * The callback receives the queue, so that a data layer can record its keys inside the transaction.
 */
export async function runAfterCommit<T>(
  transaction: (deferred: DeferredInvalidations) => Promise<T>,
): Promise<T> {
  const outer = scopes.getStore();
  if (outer) return transaction(outer);
  const work: Scope['work'] = [];
  const scope: Scope = {
    work,
    get size() {
      return work.length;
    },
    generationKeys: () => [...new Set(work.flatMap((item) => item.keys))],
  };
  const result = await scopes.run(scope, () => transaction(scope));
  // Outside the scope: what the applied invalidations call must not be deferred again. All at once, so that the
  // invalidator joins the bumps into one; every one is applied even when another fails, and a failure rejects.
  await scopes.exit(async () => {
    const failed = (await Promise.allSettled(work.map((item) => item.apply()))).find(
      (outcome) => outcome.status === 'rejected',
    );
    if (failed) throw failed.reason;
  });
  return result;
}

/**
 * For the invalidation paths: queues `apply` when called inside {@link runAfterCommit} (and resolves at once),
 * runs it now otherwise.
 */
export function afterCommit(keys: string[], apply: () => Promise<void>): Promise<void> {
  const scope = scopes.getStore();
  if (!scope) return apply();
  scope.work.push({ keys, apply });
  return Promise.resolve();
}
