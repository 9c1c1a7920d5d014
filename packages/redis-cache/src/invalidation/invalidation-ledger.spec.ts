import { describe, expect, it } from '@jest/globals';
import { InvalidationLedger } from './invalidation-ledger.js';

describe('InvalidationLedger', () => {
  it('keeps a snapshot current until one of its keys is bumped', () => {
    const ledger = new InvalidationLedger();
    const snapshot = ledger.snapshot();
    expect(ledger.isCurrent(['g:', 'g:jobs:list:'], snapshot)).toBe(true);
    ledger.bump(['g:users:list:']);
    expect(ledger.isCurrent(['g:', 'g:jobs:list:'], snapshot)).toBe(true);
    ledger.bump(['g:jobs:list:']);
    expect(ledger.isCurrent(['g:', 'g:jobs:list:'], snapshot)).toBe(false);
    expect(ledger.isCurrent(['g:users:list:'], snapshot)).toBe(false);
  });

  it('treats a bump before the snapshot as history, not as a reason to refuse', () => {
    const ledger = new InvalidationLedger();
    ledger.bump(['g:jobs:list:']);
    const snapshot = ledger.snapshot();
    expect(ledger.isCurrent(['g:jobs:list:'], snapshot)).toBe(true);
  });

  it('makes every earlier snapshot out of date on bumpAll, and none taken after it', () => {
    const ledger = new InvalidationLedger();
    const before = ledger.snapshot();
    ledger.bumpAll();
    expect(ledger.isCurrent([], before)).toBe(true);
    expect(ledger.isCurrent(['never-bumped'], before)).toBe(false);
    expect(ledger.isCurrent(['never-bumped'], ledger.snapshot())).toBe(true);
  });

  it('stays bounded, and forgetting keys never makes an old snapshot current again', () => {
    const ledger = new InvalidationLedger(3);
    const old = ledger.snapshot();
    ledger.bump(['a']);
    const afterA = ledger.snapshot();
    ledger.bump(['b', 'c']);
    expect(ledger.isCurrent(['a'], afterA)).toBe(true);
    // Overflows: the map is emptied, and every snapshot before this bump stops being current, whatever its keys.
    ledger.bump(['d', 'e']);
    expect(ledger.isCurrent(['a'], old)).toBe(false);
    expect(ledger.isCurrent(['a'], afterA)).toBe(false);
    expect(ledger.isCurrent(['unrelated'], afterA)).toBe(false);
    const now = ledger.snapshot();
    expect(ledger.isCurrent(['a', 'unrelated'], now)).toBe(true);
    ledger.bump(['d']);
    expect(ledger.isCurrent(['d'], now)).toBe(false);
    expect(ledger.isCurrent(['a'], now)).toBe(true);
  });
});
