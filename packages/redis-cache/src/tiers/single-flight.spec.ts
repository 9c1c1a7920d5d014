import { describe, expect, it } from '@jest/globals';
import { InvalidationLedger } from '../invalidation/invalidation-ledger.js';
import { SingleFlight } from './single-flight.js';

const location = { entryKey: 'p:c:jobs:item:1', generationKeys: ['p:g:', 'p:g:jobs:item:1:'] };
const response = { etag: '"e"', contentType: 'application/json', body: '{"id":1}' };

describe('SingleFlight', () => {
  it('lets later requests join the leader and hands them its response', async () => {
    const ledger = new InvalidationLedger();
    const flights = new SingleFlight(ledger);
    expect(flights.join(location.entryKey)).toBeUndefined();
    const lead = flights.lead(location, ledger.snapshot());
    const joined = [flights.join(location.entryKey)!, flights.join(location.entryKey)!];
    expect(flights.inFlight).toBe(1);
    lead.resolve({ response, cacheStatus: 'MISS' });
    await expect(Promise.all(joined)).resolves.toEqual([
      { response, cacheStatus: 'MISS' },
      { response, cacheStatus: 'MISS' },
    ]);
    expect(flights.inFlight).toBe(0);
    expect(flights.join(location.entryKey)).toBeUndefined();
  });

  it('shares the leader error with those who joined, and forgets the flight (errors are not kept)', async () => {
    const ledger = new InvalidationLedger();
    const flights = new SingleFlight(ledger);
    const lead = flights.lead(location, ledger.snapshot());
    const joined = flights.join(location.entryKey)!;
    const failure = new Error('database down');
    lead.reject(failure);
    await expect(joined).rejects.toBe(failure);
    expect(flights.join(location.entryKey)).toBeUndefined();
  });

  it('does not leave an unhandled rejection when nobody joined', async () => {
    const ledger = new InvalidationLedger();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      new SingleFlight(ledger).lead(location, ledger.snapshot()).reject(new Error('alone'));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses to join a flight that started before an invalidation of the key (it may carry the old data)', () => {
    const ledger = new InvalidationLedger();
    const flights = new SingleFlight(ledger);
    flights.lead(location, ledger.snapshot());
    ledger.bump(['p:g:jobs:list:']);
    expect(flights.join(location.entryKey)).toBeDefined();
    ledger.bump(['p:g:jobs:item:1:']);
    expect(flights.join(location.entryKey)).toBeUndefined();
  });

  it('settles once: a late resolve after the flight was replaced does not remove the newer flight', async () => {
    const ledger = new InvalidationLedger();
    const flights = new SingleFlight(ledger);
    const first = flights.lead(location, ledger.snapshot());
    ledger.bump(['p:g:']);
    const second = flights.lead(location, ledger.snapshot());
    first.resolve(undefined);
    const joined = flights.join(location.entryKey);
    expect(joined).toBeDefined();
    second.resolve({ response, cacheStatus: 'MISS' });
    second.resolve(undefined);
    await expect(joined).resolves.toEqual({ response, cacheStatus: 'MISS' });
  });
});
