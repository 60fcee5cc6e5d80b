import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Circuit,
  CLOSED,
  circuitState,
  probeAvailable,
  recordFailure,
  recordOutcomes,
  recordSuccess,
  takeProbe,
} from '../../domain/circuit.ts';

const opts = { failureThreshold: 3, coolDownMs: 1_000 };
const failTimes = (c: Circuit, n: number, now: number): Circuit => {
  let out = c;
  for (let i = 0; i < n; i++) out = recordFailure(out, now, opts);
  return out;
};

describe('circuit breaker', () => {
  it('stays closed below the threshold and opens at it', () => {
    const two = failTimes(CLOSED, 2, 100);
    expect(circuitState(two, 100, opts)).toBe('closed');
    expect(two.consecutiveFailures).toBe(2);
    const three = recordFailure(two, 150, opts);
    expect(circuitState(three, 150, opts)).toBe('open');
    expect(three.openedAt).toBe(150);
  });

  it('a success resets the count', () => {
    const c = recordSuccess(failTimes(CLOSED, 2, 0));
    expect(failTimes(c, 2, 0).state).toBe('closed');
  });

  it('half-opens after the cool-down and hands out exactly one probe', () => {
    const open = failTimes(CLOSED, 3, 0);
    expect(circuitState(open, 999, opts)).toBe('open');
    expect(probeAvailable(open, 999, opts)).toBe(false);
    expect(circuitState(open, 1_000, opts)).toBe('half_open');
    expect(probeAvailable(open, 1_000, opts)).toBe(true);
    const probing = takeProbe(open, 1_000, opts);
    expect(probing.probeStartedAt).toBe(1_000);
    expect(probeAvailable(probing, 1_500, opts)).toBe(false);
    expect(takeProbe(probing, 1_500, opts)).toBe(probing);
  });

  it('frees the probe slot when the probe never reports within a cool-down', () => {
    const probing = takeProbe(failTimes(CLOSED, 3, 0), 1_000, opts);
    expect(probeAvailable(probing, 1_999, opts)).toBe(false);
    expect(probeAvailable(probing, 2_000, opts)).toBe(true);
  });

  it('a successful probe closes the circuit', () => {
    const probing = takeProbe(failTimes(CLOSED, 3, 0), 1_000, opts);
    const closed = recordSuccess(probing);
    expect(closed).toEqual(CLOSED);
    expect(circuitState(closed, 1_100, opts)).toBe('closed');
  });

  it('a failed probe re-opens it with a fresh cool-down', () => {
    const probing = takeProbe(failTimes(CLOSED, 3, 0), 1_000, opts);
    const reopened = recordFailure(probing, 1_200, opts);
    expect(circuitState(reopened, 1_200, opts)).toBe('open');
    expect(reopened.openedAt).toBe(1_200);
    expect(reopened.probeStartedAt).toBeNull();
    expect(circuitState(reopened, 2_199, opts)).toBe('open');
    expect(circuitState(reopened, 2_200, opts)).toBe('half_open');
  });

  it('failures inside the cool-down only count; they do not extend it', () => {
    const open = failTimes(CLOSED, 3, 0);
    const later = failTimes(open, 4, 500);
    expect(later.openedAt).toBe(0);
    expect(later.consecutiveFailures).toBe(7);
  });

  it('defaults: opens after 5, half-opens after 10 s', () => {
    let c = CLOSED;
    for (let i = 0; i < 4; i++) c = recordFailure(c, 0);
    expect(circuitState(c, 0)).toBe('closed');
    c = recordFailure(c, 0);
    expect(circuitState(c, 9_999)).toBe('open');
    expect(circuitState(c, 10_000)).toBe('half_open');
  });

  it('is open exactly when the trailing failures reached the threshold, absent cool-downs (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 40 }), (outcomes) => {
        const c = recordOutcomes(CLOSED, outcomes, 0, opts);
        const lastSuccess = outcomes.lastIndexOf(true);
        const trailing = outcomes.length - 1 - lastSuccess;
        expect(c.consecutiveFailures).toBe(trailing);
        expect(c.state).toBe(trailing >= opts.failureThreshold ? 'open' : 'closed');
      }),
    );
  });
});
