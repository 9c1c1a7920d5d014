import { describe, expect, it, jest } from '@jest/globals';
import { FailureLog } from './failure-log.js';

const WINDOW_MS = 1_000;

/** A FailureLog on a hand-driven clock with a fake logger. */
function setup(windowMs: number | 'default' = WINDOW_MS) {
  const clock = { now: 0 };
  const logger = { warn: jest.fn<(message: unknown) => void>() };
  const log = new FailureLog(logger, windowMs === 'default' ? undefined : windowMs, () => clock.now);
  /** Reports `kind` at time `at` (ms). */
  const reportAt = (at: number, kind = 'redis', message = `${kind} failed`) => {
    clock.now = at;
    log.report(kind, message);
  };
  return { logger, reportAt };
}

describe('FailureLog', () => {
  it('logs the first report of a kind as is', () => {
    const { logger, reportAt } = setup();
    reportAt(0, 'redis', 'Redis GET: timeout');
    expect(logger.warn.mock.calls).toEqual([['Redis GET: timeout']]);
  });

  it.each<[string, number[]]>([
    ['one more report at once', [0, 0]],
    ['reports spread over the window', [0, 1, 500, WINDOW_MS - 1]],
    ['many reports within the window', [0, ...Array.from({ length: 100 }, (_, i) => i * 9)]],
  ])('suppresses %s', (_label, times) => {
    const { logger, reportAt } = setup();
    for (const at of times) reportAt(at);
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it.each<[string, number[], number, string]>([
    [
      'two suppressed, then at the end of the window',
      [0, 10, 20],
      WINDOW_MS,
      'redis failed (2 more since the last report)',
    ],
    [
      'one suppressed, then well after the window',
      [0, 999],
      60_000,
      'redis failed (1 more since the last report)',
    ],
    ['none suppressed, then after the window', [0], WINDOW_MS + 1, 'redis failed'],
  ])('%s: logs again and says how many were suppressed', (_label, before, after, expected) => {
    const { logger, reportAt } = setup();
    for (const at of before) reportAt(at);
    reportAt(after);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.warn).toHaveBeenLastCalledWith(expected);
  });

  it('starts a new window and a new count after each logged report', () => {
    const { logger, reportAt } = setup();
    for (const at of [0, 1, 2, 3]) reportAt(at);
    reportAt(WINDOW_MS); // logs, 3 suppressed
    reportAt(WINDOW_MS + 1); // suppressed: a new window started at WINDOW_MS
    reportAt(2 * WINDOW_MS - 1); // suppressed
    reportAt(2 * WINDOW_MS); // logs, 2 suppressed
    reportAt(4 * WINDOW_MS); // logs, none suppressed
    expect(logger.warn.mock.calls).toEqual([
      ['redis failed'],
      ['redis failed (3 more since the last report)'],
      ['redis failed (2 more since the last report)'],
      ['redis failed'],
    ]);
  });

  it('keeps kinds independent', () => {
    const { logger, reportAt } = setup();
    reportAt(0, 'get');
    reportAt(1, 'set');
    reportAt(2, 'get');
    reportAt(3, 'get');
    reportAt(4, 'publish');
    reportAt(WINDOW_MS, 'get');
    reportAt(WINDOW_MS + 1, 'set');
    expect(logger.warn.mock.calls).toEqual([
      ['get failed'],
      ['set failed'],
      ['publish failed'],
      ['get failed (2 more since the last report)'],
      ['set failed'],
    ]);
  });

  it('uses a 10 s window by default', () => {
    const { logger, reportAt } = setup('default');
    reportAt(0);
    reportAt(9_999);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    reportAt(10_000);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.warn).toHaveBeenLastCalledWith('redis failed (1 more since the last report)');
  });
});
