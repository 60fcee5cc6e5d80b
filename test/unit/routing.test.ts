import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WEIGHTS,
  explore,
  foldEwma,
  type RouteCandidate,
  type RoutingWeights,
  rankRoutes,
  scoreRoutes,
  updateEwma,
  worstCaseQuote,
} from '../../domain/routing.ts';

const route = (carrierId: string, over: Partial<RouteCandidate> = {}): RouteCandidate => ({
  carrierId,
  kind: 'twilio',
  priceMicros: 7_900n,
  acceptanceEwma: 0.99,
  deliveryEwma: 0.95,
  submitLatencyMs: 200,
  receiptLatencyMs: 2_000,
  consecutiveFailures: 0,
  circuit: 'closed',
  ...over,
});
const ids = (routes: readonly RouteCandidate[]) => routes.map((r) => r.carrierId);

describe('rankRoutes', () => {
  it('puts the cheapest of otherwise equal routes first, ties by carrier id', () => {
    const ranked = rankRoutes([
      route('c', { priceMicros: 9_000n }),
      route('b', { priceMicros: 7_000n }),
      route('a', { priceMicros: 9_000n }),
    ]);
    expect(ids(ranked)).toEqual(['b', 'a', 'c']);
  });

  it('prefers a dearer route that delivers 95 % over a cheaper one that delivers 60 %', () => {
    const ranked = rankRoutes([
      route('cheap', { priceMicros: 6_000n, deliveryEwma: 0.6 }),
      route('solid', { priceMicros: 7_900n, deliveryEwma: 0.95 }),
    ]);
    expect(ids(ranked)).toEqual(['solid', 'cheap']);
  });

  it('follows the weights: with only price weighted, the cheapest wins whatever it delivers', () => {
    const priceOnly: RoutingWeights = {
      acceptance: 0,
      delivery: 0,
      submitLatency: 0,
      receiptLatency: 0,
      price: 1,
    };
    const ranked = rankRoutes(
      [route('solid', { deliveryEwma: 1 }), route('cheap', { priceMicros: 100n, deliveryEwma: 0.1 })],
      { weights: priceOnly },
    );
    expect(ids(ranked)).toEqual(['cheap', 'solid']);
  });

  it('skips open routes and half-open ones without the probe', () => {
    const ranked = rankRoutes([
      route('open', { priceMicros: 1n, circuit: 'open' }),
      route('half', { priceMicros: 1n, circuit: 'half_open' }),
      route('ok', { priceMicros: 9_000n }),
    ]);
    expect(ids(ranked)).toEqual(['ok']);
  });

  it('puts the half-open route first for the message holding its probe', () => {
    const ranked = rankRoutes([
      route('ok', { priceMicros: 1n, deliveryEwma: 1 }),
      route('half', { priceMicros: 9_000n, circuit: 'half_open', probe: true, deliveryEwma: 0 }),
    ]);
    expect(ids(ranked)).toEqual(['half', 'ok']);
  });

  it('returns every route by score when all are open, rather than none', () => {
    const ranked = rankRoutes([
      route('worse', { circuit: 'open', deliveryEwma: 0.2 }),
      route('better', { circuit: 'half_open', deliveryEwma: 0.9 }),
    ]);
    expect(ids(ranked)).toEqual(['better', 'worse']);
  });

  it('returns a new array and leaves the input alone', () => {
    const candidates = [route('b', { priceMicros: 2n }), route('a', { priceMicros: 1n })];
    const ranked = rankRoutes(candidates);
    expect(ids(candidates)).toEqual(['b', 'a']);
    expect(ranked).not.toBe(candidates);
    expect(rankRoutes([])).toEqual([]);
  });

  const rate = fc.double({ min: 0, max: 1, noNaN: true });
  // Measured latencies (0 means "no sample yet", covered separately).
  const ms = fc.integer({ min: 1, max: 60_000 });
  const candidate = fc.record({
    carrierId: fc.string({ minLength: 1, maxLength: 6 }),
    kind: fc.constantFrom('twilio', 'smpp'),
    priceMicros: fc.bigInt({ min: 0n, max: 1_000_000n }),
    acceptanceEwma: rate,
    deliveryEwma: rate,
    submitLatencyMs: ms,
    receiptLatencyMs: ms,
    consecutiveFailures: fc.nat({ max: 8 }),
    circuit: fc.constantFrom<RouteCandidate['circuit']>('closed', 'open', 'half_open'),
    probe: fc.boolean(),
  });
  const weight = fc.double({ min: 0, max: 10, noNaN: true });
  const weights = fc.record({
    acceptance: weight,
    delivery: weight,
    submitLatency: weight,
    receiptLatency: weight,
    price: weight,
  });

  it('never ranks a cheaper route that is no worse on acceptance, delivery and latency below the other (property)', () => {
    fc.assert(
      fc.property(candidate, candidate, fc.array(candidate, { maxLength: 5 }), weights, (x, y, others, w) => {
        const [a, b] = x.priceMicros <= y.priceMicros ? [x, y] : [y, x];
        fc.pre(a.priceMicros < b.priceMicros);
        fc.pre(a.acceptanceEwma >= b.acceptanceEwma && a.deliveryEwma >= b.deliveryEwma);
        fc.pre(a.submitLatencyMs <= b.submitLatencyMs && a.receiptLatencyMs <= b.receiptLatencyMs);
        // Same breaker standing: the circuit filters before the score decides.
        const sameCircuit = { ...a, circuit: b.circuit, probe: b.probe };
        const ranked = rankRoutes([...others, b, sameCircuit], { weights: w });
        if (ranked.includes(b)) expect(ranked.indexOf(sameCircuit)).toBeLessThan(ranked.indexOf(b));
        const scores = scoreRoutes([...others, b, sameCircuit], w);
        expect(scores.at(-1)?.score).toBeGreaterThanOrEqual(scores.at(-2)?.score ?? Number.NaN);
      }),
      { numRuns: 500 },
    );
  });

  it('never puts an open route before a closed one, and keeps every route when all are open (property)', () => {
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 8 }), (cs) => {
        const ranked = rankRoutes(cs);
        const usable = cs.filter((c) => c.circuit === 'closed' || (c.circuit === 'half_open' && c.probe));
        if (usable.length > 0) {
          expect(new Set(ranked)).toEqual(new Set(usable));
          const firstClosed = ranked.findIndex((c) => c.circuit === 'closed');
          const lastProbe = ranked.map((c) => c.circuit !== 'closed').lastIndexOf(true);
          if (firstClosed >= 0 && lastProbe >= 0) expect(lastProbe).toBeLessThan(firstClosed);
        } else {
          expect(new Set(ranked)).toEqual(new Set(cs));
        }
      }),
    );
  });

  it('is independent of input order (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(candidate, { selector: (c) => c.carrierId, maxLength: 8 }), (cs) => {
        expect(ids(rankRoutes([...cs].reverse()))).toEqual(ids(rankRoutes(cs)));
      }),
    );
  });

  it('treats latencies under the floors as equal, and an unknown latency as the slowest known', () => {
    const [fast, slow] = scoreRoutes([
      route('fast', { submitLatencyMs: 20, receiptLatencyMs: 500 }),
      route('slow', { submitLatencyMs: 190, receiptLatencyMs: 1_900 }),
    ]);
    expect(fast?.score).toBe(slow?.score);
    const [known, unknown] = scoreRoutes([
      route('known', { submitLatencyMs: 400, receiptLatencyMs: 8_000 }),
      route('unknown', { submitLatencyMs: 0, receiptLatencyMs: 0 }),
    ]);
    expect(unknown?.terms.submitLatency).toBe(known?.terms.submitLatency);
    expect(unknown?.terms.receiptLatency).toBe(known?.terms.receiptLatency);
    const [quick, dawdler] = scoreRoutes([
      route('quick', { receiptLatencyMs: 2_000 }),
      route('dawdler', { receiptLatencyMs: 8_000 }),
    ]);
    expect(quick?.terms.receiptLatency).toBe(1);
    expect(dawdler?.terms.receiptLatency).toBe(0.25);
  });

  it('scores stay within the sum of the weights', () => {
    const [s] = scoreRoutes([route('a')]);
    const total = Object.values(DEFAULT_WEIGHTS).reduce((x, y) => x + y, 0);
    expect(s?.score).toBeGreaterThan(0);
    expect(s?.score).toBeLessThanOrEqual(total + 1e-12);
    expect(s?.terms.price).toBe(1);
  });
});

describe('explore', () => {
  const seq = (...values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length] ?? 0;
  };
  const routes = [route('a'), route('b'), route('c')];

  it('leaves the order alone when the dice say no', () => {
    expect(ids(explore(routes, 0.05, seq(0.5)))).toEqual(['a', 'b', 'c']);
  });

  it('moves a non-top route to the front when the dice say yes', () => {
    expect(ids(explore(routes, 0.05, seq(0.01, 0)))).toEqual(['b', 'a', 'c']);
    expect(ids(explore(routes, 0.05, seq(0.01, 0.99)))).toEqual(['c', 'a', 'b']);
  });

  it('never moves a probing route from the front, nor a single route', () => {
    const probing = [route('p', { probe: true, circuit: 'half_open' }), route('b')];
    expect(ids(explore(probing, 1, seq(0)))).toEqual(['p', 'b']);
    expect(ids(explore([route('a')], 1, seq(0)))).toEqual(['a']);
  });

  it('explores about `share` of the time (property of the dice)', () => {
    let rngState = 42;
    const rng = () => {
      rngState = (rngState * 1_103_515_245 + 12_345) % 2 ** 31;
      return rngState / 2 ** 31;
    };
    let explored = 0;
    for (let i = 0; i < 10_000; i++) if (explore(routes, 0.05, rng)[0]?.carrierId !== 'a') explored++;
    expect(explored / 10_000).toBeGreaterThan(0.035);
    expect(explored / 10_000).toBeLessThan(0.065);
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

describe('updateEwma / foldEwma', () => {
  it('moves toward 1 on success and toward 0 on failure by alpha', () => {
    expect(updateEwma(0.5, true)).toBeCloseTo(0.6, 12);
    expect(updateEwma(0.5, false)).toBeCloseTo(0.4, 12);
    expect(updateEwma(0.5, true, 1)).toBe(1);
    expect(updateEwma(0.5, false, 0.5)).toBe(0.25);
  });

  it('rejects alpha outside (0, 1]', () => {
    expect(() => updateEwma(0.5, true, 0)).toThrow(RangeError);
    expect(() => updateEwma(0.5, true, 1.1)).toThrow(RangeError);
    expect(() => foldEwma([1], 0)).toThrow(RangeError);
  });

  it('folding a batch equals applying it one by one (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.boolean(), { maxLength: 50 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (prev, outcomes, alpha) => {
          const stepwise = outcomes.reduce((p, ok) => updateEwma(p, ok, alpha), prev);
          const { decay, add } = foldEwma(
            outcomes.map((ok) => (ok ? 1 : 0)),
            alpha,
          );
          expect(prev * decay + add).toBeCloseTo(stepwise, 9);
        },
      ),
    );
  });

  it('an empty batch changes nothing', () => {
    expect(foldEwma([], 0.3)).toEqual({ decay: 1, add: 0 });
  });
});
