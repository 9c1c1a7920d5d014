import { describe, expect, it } from '@jest/globals';
import { CircuitBreaker } from './circuit-breaker.js';

function breaker(failureThreshold = 3, coolDownMs = 1_000) {
  const clock = { now: 0 };
  return { clock, circuit: new CircuitBreaker({ failureThreshold, coolDownMs, now: () => clock.now }) };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, and a success in between resets the count', () => {
    const { circuit } = breaker(3);
    circuit.failure();
    circuit.failure();
    circuit.success();
    circuit.failure();
    circuit.failure();
    expect(circuit.state).toBe('closed');
    expect(circuit.allow()).toBe(true);
    circuit.failure();
    expect(circuit.state).toBe('open');
    expect(circuit.allow()).toBe(false);
  });

  it('lets exactly one probe through after the cool-down, and closes when it succeeds', () => {
    const { clock, circuit } = breaker(1, 1_000);
    circuit.failure();
    clock.now = 999;
    expect(circuit.allow()).toBe(false);
    clock.now = 1_000;
    expect(circuit.allow()).toBe(true);
    expect(circuit.state).toBe('half-open');
    expect(circuit.allow()).toBe(false);
    clock.now = 1_050;
    circuit.success();
    expect(circuit.state).toBe('closed');
    expect(circuit.allow()).toBe(true);
    expect(circuit.timeOpenMs).toBe(1_050);
  });

  it('opens for another full cool-down when the probe fails', () => {
    const { clock, circuit } = breaker(1, 1_000);
    circuit.failure();
    clock.now = 1_000;
    expect(circuit.allow()).toBe(true);
    clock.now = 1_200;
    circuit.failure();
    expect(circuit.state).toBe('open');
    clock.now = 2_100;
    expect(circuit.allow()).toBe(false);
    clock.now = 2_200;
    expect(circuit.allow()).toBe(true);
    expect(circuit.timeOpenMs).toBe(2_200);
  });
});

describe('CircuitBreaker.probeNow', () => {
  it('lets the next call probe before the cool-down ends (the connection came back)', () => {
    const clock = { now: 0 };
    const circuit = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 1_000, now: () => clock.now });
    circuit.probeNow();
    expect(circuit.state).toBe('closed');
    circuit.failure();
    clock.now = 10;
    expect(circuit.allow()).toBe(false);
    circuit.probeNow();
    expect(circuit.allow()).toBe(true);
    expect(circuit.state).toBe('half-open');
    expect(circuit.allow()).toBe(false);
  });
});
