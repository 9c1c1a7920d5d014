import type { StoredResponse } from '../storage/cache-entry.js';
import type { InvalidationLedger } from '../invalidation/invalidation-ledger.js';

/** What a finished flight gives the requests that joined it: the response to send, or nothing (run it yourself). */
export type FlightOutcome = { response: StoredResponse & { body: string }; cacheStatus: string } | undefined;

export interface FlightLead {
  /** Settles the flight for everyone who joined; later calls are ignored. */
  resolve(outcome: FlightOutcome): void;
  reject(error: unknown): void;
}

interface Flight {
  generationKeys: string[];
  snapshot: number;
  outcome: Promise<FlightOutcome>;
}

/**
 * Concurrent misses of one key in one process run the handler once: the first request leads, the others wait for
 * its response (or its error, which is shared, never cached). A request joins only a flight that started after the
 * last invalidation of the key's prefixes, so a write that finished before the request arrived is never answered
 * by a handler run that began before it.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly ledger: InvalidationLedger) {}

  join(entryKey: string): Promise<FlightOutcome> | undefined {
    const flight = this.flights.get(entryKey);
    if (!flight) return undefined;
    return this.ledger.isCurrent(flight.generationKeys, flight.snapshot) ? flight.outcome : undefined;
  }

  lead(location: { entryKey: string; generationKeys: string[] }, snapshot: number): FlightLead {
    let settle!: { resolve: (outcome: FlightOutcome) => void; reject: (error: unknown) => void };
    const outcome = new Promise<FlightOutcome>((resolve, reject) => (settle = { resolve, reject }));
    // Nobody may have joined: a shared error must not become an unhandled rejection.
    outcome.catch(() => undefined);
    const flight: Flight = { generationKeys: location.generationKeys, snapshot, outcome };
    this.flights.set(location.entryKey, flight);
    const land = () => {
      if (this.flights.get(location.entryKey) === flight) this.flights.delete(location.entryKey);
    };
    return {
      resolve: (value) => {
        land();
        settle.resolve(value);
      },
      reject: (error) => {
        land();
        settle.reject(error);
      },
    };
  }

  get inFlight(): number {
    return this.flights.size;
  }
}
