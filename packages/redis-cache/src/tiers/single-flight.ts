import type { InvalidationLedger } from '../invalidation/invalidation-ledger.js';

export interface FlightLead<O> {
  /** Settles the flight for everyone who joined; later calls are ignored. */
  resolve(outcome: O): void;
  reject(error: unknown): void;
}

interface Flight<O> {
  location: { entryKey: string; generationKeys: string[] };
  snapshot: number;
  outcome: Promise<O>;
}

/**
 * Concurrent misses of one key in one process run the handler (or `compute`) once: the first caller leads, the
 * others wait for its outcome (or its error, which is shared, never cached). A caller joins only a flight that
 * started after the last invalidation of its key's prefixes that this process knows of, so a write that finished
 * before the caller arrived is never answered by a run that began before it.
 */
export class SingleFlight<O> {
  private readonly flights = new Map<string, Flight<O>>();

  constructor(private readonly ledger: InvalidationLedger) {}

  join(entryKey: string): Promise<O> | undefined {
    const flight = this.flights.get(entryKey);
    if (!flight) return undefined;
    return this.ledger.isCurrent(flight.location.generationKeys, flight.snapshot)
      ? flight.outcome
      : undefined;
  }

  lead(location: { entryKey: string; generationKeys: string[] }, snapshot: number): FlightLead<O> {
    let settle!: { resolve: (outcome: O) => void; reject: (error: unknown) => void };
    const outcome = new Promise<O>((resolve, reject) => (settle = { resolve, reject }));
    // Nobody may have joined: a shared error must not become an unhandled rejection.
    outcome.catch(() => undefined);
    const flight: Flight<O> = { location, snapshot, outcome };
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
