/**
 * Route ranking (DESIGN §6): a live score per (carrier, country) route.
 *
 * score = w.acceptance · acceptance + w.delivery · delivery
 *       + w.submitLatency · (fastest submit / own submit) + w.receiptLatency · (fastest receipt / own receipt)
 *       + w.price · (cheapest price / own price)
 *
 * Every term lies in [0, 1] and moves one way with its input, and the weights are >= 0, so a
 * route that is cheaper and no worse on acceptance, delivery and latency never scores lower
 * (ties go to the cheaper route, then the carrier id). Latency and price are relative to the best
 * candidate, which keeps the score unit-free across countries whose prices differ tenfold;
 * latencies under a floor (200 ms submit, 2 s receipt) count as equal.
 *
 * Circuit state filters before scoring: open routes are skipped, a half-open route is tried
 * first only by the message holding its probe. When no route is closed or probing, the open
 * ones are still returned (best score first) rather than failing the message outright.
 */
import type { CircuitState } from './circuit.ts';

/** One eligible (carrier, country) route with its live stats. */
export interface RouteCandidate {
  readonly carrierId: string;
  /** Adapter kind (`twilio`, `smpp`, …). */
  readonly kind: string;
  /** Price per segment in micro-units. */
  readonly priceMicros: bigint;
  /** EWMA of submits accepted, 0..1 (starts at 1). */
  readonly acceptanceEwma: number;
  /** EWMA of final receipts that said delivered, 0..1 (starts at 1). */
  readonly deliveryEwma: number;
  /** EWMA of submit round trips, ms (0 while unknown). */
  readonly submitLatencyMs: number;
  /** EWMA of time from acceptance to the final receipt, ms (0 while unknown). */
  readonly receiptLatencyMs: number;
  readonly consecutiveFailures: number;
  /** The breaker's state now (see domain/circuit.ts). */
  readonly circuit: CircuitState;
  /** True when this message holds the half-open route's single probe. */
  readonly probe?: boolean;
}

/** Weights of the score's terms; each >= 0. */
export interface RoutingWeights {
  readonly acceptance: number;
  readonly delivery: number;
  readonly submitLatency: number;
  readonly receiptLatency: number;
  readonly price: number;
}

/** Delivery counts most, then acceptance and price; latency breaks near-ties. */
export const DEFAULT_WEIGHTS: RoutingWeights = {
  acceptance: 0.2,
  delivery: 0.5,
  submitLatency: 0.05,
  receiptLatency: 0.05,
  price: 0.2,
};

/** Submit round trips below this many ms count as equal: noise, not a reason to move traffic. */
export const SUBMIT_LATENCY_FLOOR_MS = 200;
/** Receipt latencies below this many ms count as equal (receipts take seconds to minutes). */
export const RECEIPT_LATENCY_FLOOR_MS = 2_000;

/** One route's score and its terms, for ranking and for the operators' view. */
export interface RouteScore {
  readonly carrierId: string;
  readonly score: number;
  readonly terms: {
    readonly acceptance: number;
    readonly delivery: number;
    readonly submitLatency: number;
    readonly receiptLatency: number;
    readonly price: number;
  };
}

const unit = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1);

/**
 * Latencies with their floor. An unknown latency (0: no sample yet) counts as the slowest known
 * one, so an untried route never wins on speed it has not shown (exploration finds it out).
 */
function latencies(values: readonly number[], floor: number): number[] {
  const known = values.filter((v) => Number.isFinite(v) && v > 0);
  const slowest = known.length > 0 ? Math.max(...known) : floor;
  return values.map((v) => Math.max(floor, Number.isFinite(v) && v > 0 ? v : slowest));
}

/** Best-is-1 ratio of a "lower is better" quantity. */
function relative(best: number, own: number): number {
  return own <= 0 ? 1 : Math.min(1, best / own);
}

/** Scores every candidate against the others (see the module comment). */
export function scoreRoutes(
  candidates: readonly RouteCandidate[],
  weights: RoutingWeights = DEFAULT_WEIGHTS,
): RouteScore[] {
  if (candidates.length === 0) return [];
  let cheapest = candidates[0]?.priceMicros ?? 0n;
  for (const c of candidates) if (c.priceMicros < cheapest) cheapest = c.priceMicros;
  const submit = latencies(
    candidates.map((c) => c.submitLatencyMs),
    SUBMIT_LATENCY_FLOOR_MS,
  );
  const receipt = latencies(
    candidates.map((c) => c.receiptLatencyMs),
    RECEIPT_LATENCY_FLOOR_MS,
  );
  const fastestSubmit = Math.min(...submit);
  const fastestReceipt = Math.min(...receipt);
  return candidates.map((c, i) => {
    const terms = {
      acceptance: unit(c.acceptanceEwma),
      delivery: unit(c.deliveryEwma),
      submitLatency: relative(fastestSubmit, submit[i] ?? fastestSubmit),
      receiptLatency: relative(fastestReceipt, receipt[i] ?? fastestReceipt),
      // bigint → number only for the ratio; exact enough for a weight, never for money.
      price: c.priceMicros === 0n ? 1 : Number(cheapest) / Number(c.priceMicros),
    };
    const score =
      weights.acceptance * terms.acceptance +
      weights.delivery * terms.delivery +
      weights.submitLatency * terms.submitLatency +
      weights.receiptLatency * terms.receiptLatency +
      weights.price * terms.price;
    return { carrierId: c.carrierId, score, terms };
  });
}

/** Options for {@link rankRoutes}. */
export interface RankRoutesOptions {
  /** Default {@link DEFAULT_WEIGHTS}. */
  readonly weights?: RoutingWeights;
}

/**
 * Orders routes for one message: the probing half-open route (if this message holds the probe)
 * first, then closed routes by score (ties: cheaper, then carrier id). Open routes, and half-open
 * ones this message does not probe, are left out — unless nothing else is left, in which case
 * they all come back by score, so a message is never failed only because every breaker is open.
 * Returns a new array; the input is not changed.
 */
export function rankRoutes<T extends RouteCandidate>(
  candidates: readonly T[],
  options: RankRoutesOptions = {},
): T[] {
  const scores = scoreRoutes(candidates, options.weights);
  const scored = candidates.map((c, i) => ({ c, score: scores[i]?.score ?? 0 }));
  scored.sort((x, y) => {
    if (x.score !== y.score) return y.score - x.score;
    if (x.c.priceMicros !== y.c.priceMicros) return x.c.priceMicros < y.c.priceMicros ? -1 : 1;
    if (x.c.carrierId === y.c.carrierId) return 0;
    return x.c.carrierId < y.c.carrierId ? -1 : 1;
  });
  const ordered = scored.map((s) => s.c);
  const probes = ordered.filter((c) => c.circuit === 'half_open' && c.probe === true);
  const closed = ordered.filter((c) => c.circuit === 'closed');
  const usable = [...probes, ...closed];
  return usable.length > 0 ? usable : ordered;
}

/**
 * Exploration: with probability `share`, move a random non-top route to the front so its stats
 * stay fresh. `random` returns [0, 1) (Math.random in the activity; seeded in tests). Returns a
 * new array. A probing route keeps the front: its probe must go first.
 */
export function explore<T extends { readonly probe?: boolean }>(
  ranked: readonly T[],
  share: number,
  random: () => number,
): T[] {
  const out = [...ranked];
  if (out.length < 2 || out[0]?.probe === true || !(random() < share)) return out;
  const pick = 1 + Math.min(out.length - 2, Math.floor(random() * (out.length - 1)));
  const [chosen] = out.splice(pick, 1);
  if (chosen !== undefined) out.unshift(chosen);
  return out;
}

/**
 * The amount to reserve before sending: the highest per-segment price among `candidates` times
 * `segments`, so whichever route takes the message the reservation covers it. `0n` for none.
 */
export function worstCaseQuote(
  candidates: readonly { readonly priceMicros: bigint }[],
  segments: number,
): bigint {
  if (!Number.isSafeInteger(segments) || segments < 0) {
    throw new RangeError(`segments must be a non-negative integer, got ${segments}`);
  }
  let max = 0n;
  for (const c of candidates) if (c.priceMicros > max) max = c.priceMicros;
  return max * BigInt(segments);
}

/**
 * Folds one outcome into an exponentially weighted rate: `prev + alpha * (x - prev)` with x = 1
 * for success, 0 for failure. The result stays in [0, 1].
 *
 * @param alpha - weight of the newest outcome, in (0, 1]. Default 0.2.
 */
export function updateEwma(prev: number, success: boolean, alpha = 0.2): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  const base = Number.isFinite(prev) ? Math.min(1, Math.max(0, prev)) : 1;
  const next = base + alpha * ((success ? 1 : 0) - base);
  return Math.min(1, Math.max(0, next));
}

/**
 * n EWMA updates applied in order, as one affine map: `folded(prev) = prev · decay + add`, with
 * `decay = (1 − α)^n` and `add = Σ α (1 − α)^(n−i) xᵢ`. Lets a batch of outcomes land in the
 * database as one `UPDATE … SET v = v * decay + add`, identical to applying them one by one.
 * An empty list gives `{ decay: 1, add: 0 }`.
 */
export function foldEwma(values: readonly number[], alpha: number): { decay: number; add: number } {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  let decay = 1;
  let add = 0;
  for (const x of values) {
    decay *= 1 - alpha;
    add = add * (1 - alpha) + alpha * x;
  }
  return { decay, add };
}
