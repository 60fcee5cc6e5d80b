import { describe, expect, it } from 'vitest';
import { maxSegmentsInWindow } from '../../simulators/sim-core.ts';

describe('maxSegmentsInWindow', () => {
  it('sums segments over the busiest sliding window', () => {
    const log = [
      { at: 0, segments: 2 },
      { at: 500, segments: 2 },
      { at: 999, segments: 2 },
      { at: 1_000, segments: 2 },
      { at: 2_500, segments: 1 },
    ];
    expect(maxSegmentsInWindow(log, 1_000)).toBe(6);
    expect(maxSegmentsInWindow(log, 2_000)).toBe(8);
    expect(maxSegmentsInWindow([], 1_000)).toBe(0);
  });

  it('does not depend on the order of the log', () => {
    const log = [
      { at: 1_000, segments: 3 },
      { at: 0, segments: 1 },
      { at: 1_200, segments: 3 },
    ];
    expect(maxSegmentsInWindow(log, 1_000)).toBe(6);
  });
});
