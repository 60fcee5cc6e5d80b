import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  effectiveSuccess,
  PRIOR_SUCCESS,
  type RouteCandidate,
  rankRoutes,
  updateEwma,
  worstCaseQuote,
} from '../../domain/routing.ts';

const route = (carrierId: string, over: Partial<RouteCandidate> = {}): RouteCandidate => ({
  carrierId,
  kind: 'twilio',
  priceMicros: 7_900n,
  successEwma: 0.95,
  attempts: 100,
  consecutiveFailures: 0,
  ...over,
});
const ids = (routes: readonly RouteCandidate[]) => routes.map((r) => r.carrierId);

describe('rankRoutes', () => {
  it('puts the cheapest of equally reliable routes first, ties by carrier id', () => {
    const ranked = rankRoutes([
      route('c', { priceMicros: 9_000n }),
      route('b', { priceMicros: 7_000n }),
      route('a', { priceMicros: 9_000n }),
    ]);
    expect(ids(ranked)).toEqual(['b', 'a', 'c']);
  });

  it('prefers a dearer route that delivers over a cheap one that does not', () => {
    const ranked = rankRoutes([
      route('cheap', { priceMicros: 5_000n, successEwma: 0.4 }),
      route('solid', { priceMicros: 8_000n, successEwma: 0.98 }),
    ]);
    expect(ids(ranked)).toEqual(['solid', 'cheap']);
  });

  it('uses the 0.9 prior for routes with fewer than 20 attempts', () => {
    expect(effectiveSuccess(route('new', { attempts: 19, successEwma: 0 }))).toBe(PRIOR_SUCCESS);
    expect(effectiveSuccess(route('old', { attempts: 20, successEwma: 0.5 }))).toBe(0.5);
    // The new route's 0.0 stat is ignored; the old route's 0.5 counts: 9_000/0.9 < 7_000/0.5.
    const ranked = rankRoutes([
      route('old', { attempts: 20, successEwma: 0.5, priceMicros: 7_000n }),
      route('new', { attempts: 3, successEwma: 0, priceMicros: 9_000n }),
    ]);
    expect(ids(ranked)).toEqual(['new', 'old']);
  });

  it('floors success at 0.05 so a dead route still has a finite cost', () => {
    expect(effectiveSuccess(route('x', { successEwma: 0 }))).toBe(0.05);
    expect(effectiveSuccess(route('x', { successEwma: 1.5 }))).toBe(1);
    expect(effectiveSuccess(route('x', { successEwma: Number.NaN }))).toBe(PRIOR_SUCCESS);
    const ranked = rankRoutes([
      route('dead', { successEwma: 0, priceMicros: 100n }),
      route('dearer', { successEwma: 0.01, priceMicros: 99n }),
    ]);
    expect(ids(ranked)).toEqual(['dearer', 'dead']);
  });

  it('moves routes with too many consecutive failures to the end without removing them', () => {
    const candidates = [
      route('tripped', { priceMicros: 1n, consecutiveFailures: 5 }),
      route('ok', { priceMicros: 9_000n, consecutiveFailures: 4 }),
      route('tripped2', { priceMicros: 2n, consecutiveFailures: 50 }),
    ];
    expect(ids(rankRoutes(candidates))).toEqual(['ok', 'tripped', 'tripped2']);
    expect(ids(rankRoutes(candidates, { maxConsecutiveFailures: 100 }))).toEqual([
      'tripped',
      'tripped2',
      'ok',
    ]);
    expect(ids(rankRoutes(candidates, { maxConsecutiveFailures: 4 }))).toEqual(['tripped', 'tripped2', 'ok']);
  });

  it('returns a new array and leaves the input alone', () => {
    const candidates = [route('b', { priceMicros: 2n }), route('a', { priceMicros: 1n })];
    const ranked = rankRoutes(candidates);
    expect(ids(candidates)).toEqual(['b', 'a']);
    expect(ranked).not.toBe(candidates);
    expect(rankRoutes([])).toEqual([]);
  });

  const candidate = fc.record({
    carrierId: fc.string({ minLength: 1, maxLength: 6 }),
    kind: fc.constantFrom('twilio', 'smpp'),
    priceMicros: fc.bigInt({ min: 0n, max: 1_000_000n }),
    successEwma: fc.double({ min: 0, max: 1, noNaN: true }),
    attempts: fc.nat({ max: 60 }),
    consecutiveFailures: fc.nat({ max: 8 }),
  });

  it('never ranks a cheaper, no less reliable, no more failing route below the other (property)', () => {
    fc.assert(
      fc.property(
        candidate,
        candidate,
        fc.array(candidate, { maxLength: 5 }),
        fc.integer({ min: 1, max: 8 }),
        (x, y, others, maxConsecutiveFailures) => {
          const [a, b] = x.priceMicros <= y.priceMicros ? [x, y] : [y, x];
          fc.pre(a.priceMicros < b.priceMicros);
          fc.pre(effectiveSuccess(a) >= effectiveSuccess(b));
          fc.pre(a.consecutiveFailures <= b.consecutiveFailures);
          const ranked = rankRoutes([...others, b, a], { maxConsecutiveFailures });
          expect(ranked.indexOf(a)).toBeLessThan(ranked.indexOf(b));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is a permutation, independent of input order (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(candidate, { selector: (c) => c.carrierId, maxLength: 8 }), (cs) => {
        const ranked = rankRoutes(cs);
        expect(new Set(ranked)).toEqual(new Set(cs));
        expect(ids(rankRoutes([...cs].reverse()))).toEqual(ids(ranked));
      }),
    );
  });
});

describe('worstCaseQuote', () => {
  it('is the highest price times the segments', () => {
    const cs = [route('a', { priceMicros: 7_900n }), route('b', { priceMicros: 9_000n })];
    expect(worstCaseQuote(cs, 1)).toBe(9_000n);
    expect(worstCaseQuote(cs, 3)).toBe(27_000n);
    expect(worstCaseQuote(cs, 0)).toBe(0n);
    expect(worstCaseQuote([], 3)).toBe(0n);
  });

  it('rejects a non-integer or negative segment count', () => {
    expect(() => worstCaseQuote([], -1)).toThrow(RangeError);
    expect(() => worstCaseQuote([], 1.5)).toThrow(RangeError);
    expect(() => worstCaseQuote([], Number.NaN)).toThrow(RangeError);
  });
});

describe('updateEwma', () => {
  it('moves toward 1 on success and toward 0 on failure by alpha', () => {
    expect(updateEwma(0.5, true)).toBeCloseTo(0.6, 12);
    expect(updateEwma(0.5, false)).toBeCloseTo(0.4, 12);
    expect(updateEwma(0.5, true, 1)).toBe(1);
    expect(updateEwma(0.5, false, 0.5)).toBe(0.25);
  });

  it('rejects alpha outside (0, 1]', () => {
    expect(() => updateEwma(0.5, true, 0)).toThrow(RangeError);
    expect(() => updateEwma(0.5, true, 1.1)).toThrow(RangeError);
    expect(() => updateEwma(0.5, true, Number.NaN)).toThrow(RangeError);
  });

  it('stays within [0, 1] and moves the right way (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
        (prev, success, alpha) => {
          const next = updateEwma(prev, success, alpha);
          expect(next).toBeGreaterThanOrEqual(0);
          expect(next).toBeLessThanOrEqual(1);
          if (success) expect(next).toBeGreaterThanOrEqual(prev);
          else expect(next).toBeLessThanOrEqual(prev);
        },
      ),
    );
  });
});
