/**
 * Route ranking (DESIGN §6), first cut: the cheapest route per *delivered* message wins.
 * A route's effective cost is its per-segment price divided by its recent success rate, so a
 * cheap route that drops messages loses to a slightly dearer one that delivers.
 */

/** One eligible (carrier, country) route with its live stats. */
export interface RouteCandidate {
  readonly carrierId: string;
  /** Adapter kind (`twilio`, `smpp`, …). */
  readonly kind: string;
  /** Price per segment in micro-units. */
  readonly priceMicros: bigint;
  /** Exponentially weighted success rate, 0..1 (see {@link updateEwma}). */
  readonly successEwma: number;
  readonly attempts: number;
  readonly consecutiveFailures: number;
}

/** Options for {@link rankRoutes}. */
export interface RankRoutesOptions {
  /** Routes with at least this many consecutive failures go last (not removed). Default 5. */
  readonly maxConsecutiveFailures?: number;
}

/** Success rate assumed for a route with too few attempts to trust its own. */
export const PRIOR_SUCCESS = 0.9;
/** Attempts a route needs before its own success rate counts. */
export const MIN_ATTEMPTS_FOR_STATS = 20;
/** Floor on the success rate so a failing route's cost stays finite. */
export const MIN_SUCCESS = 0.05;
export const DEFAULT_MAX_CONSECUTIVE_FAILURES = 5;

/**
 * Success rate used for ranking: the prior until a route has enough attempts (or when the stat is
 * not a number), clamped to [0.05, 1].
 */
export function effectiveSuccess(c: RouteCandidate): number {
  const raw = c.attempts < MIN_ATTEMPTS_FOR_STATS ? PRIOR_SUCCESS : c.successEwma;
  if (!Number.isFinite(raw)) return PRIOR_SUCCESS; // missing stats: treat as new
  return Math.min(1, Math.max(MIN_SUCCESS, raw));
}

/**
 * Orders routes best first: healthy routes by effective cost (`price / effectiveSuccess`)
 * ascending, ties by `carrierId`; routes at or over `maxConsecutiveFailures` follow in the same
 * order. Returns a new array; the input is not changed.
 */
export function rankRoutes(
  candidates: readonly RouteCandidate[],
  options: RankRoutesOptions = {},
): RouteCandidate[] {
  const maxFailures = options.maxConsecutiveFailures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES;
  const keyed = candidates.map((c) => ({
    c,
    tripped: c.consecutiveFailures >= maxFailures,
    // Success in parts per million as a bigint, so costs compare exactly by cross-multiplying.
    successPpm: BigInt(Math.round(effectiveSuccess(c) * 1_000_000)),
  }));
  keyed.sort((x, y) => {
    if (x.tripped !== y.tripped) return x.tripped ? 1 : -1;
    // x.price / x.success vs y.price / y.success, without division.
    const left = x.c.priceMicros * y.successPpm;
    const right = y.c.priceMicros * x.successPpm;
    if (left !== right) return left < right ? -1 : 1;
    if (x.c.carrierId === y.c.carrierId) return 0;
    return x.c.carrierId < y.c.carrierId ? -1 : 1;
  });
  return keyed.map((k) => k.c);
}

/**
 * The amount to reserve before sending: the highest per-segment price among `candidates` times
 * `segments`, so whichever route takes the message the reservation covers it. `0n` for none.
 */
export function worstCaseQuote(candidates: readonly RouteCandidate[], segments: number): bigint {
  if (!Number.isSafeInteger(segments) || segments < 0) {
    throw new RangeError(`segments must be a non-negative integer, got ${segments}`);
  }
  let max = 0n;
  for (const c of candidates) if (c.priceMicros > max) max = c.priceMicros;
  return max * BigInt(segments);
}

/**
 * Folds one outcome into an exponentially weighted success rate: `prev + alpha * (x - prev)` with
 * x = 1 for success, 0 for failure. The result stays in [0, 1].
 *
 * @param alpha - weight of the newest outcome, in (0, 1]. Default 0.2.
 */
export function updateEwma(prev: number, success: boolean, alpha = 0.2): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  const base = Number.isFinite(prev) ? Math.min(1, Math.max(0, prev)) : PRIOR_SUCCESS;
  const next = base + alpha * ((success ? 1 : 0) - base);
  return Math.min(1, Math.max(0, next));
}
