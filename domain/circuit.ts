/**
 * Per-route circuit breaker (DESIGN §6), as a pure state machine over plain values so the
 * worker's in-memory copy, the database row and the tests all follow the same rules:
 *
 * - `closed`: traffic flows; N consecutive failures open it.
 * - `open`: traffic skips the route until the cool-down has passed since it opened.
 * - `half_open` (derived: open and cooled down): ONE probe may go; its success closes the
 *   circuit, its failure re-opens it (a fresh cool-down). A probe that never reports within
 *   another cool-down frees the slot for the next probe.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

/** What is stored per route (in memory and in `route_stats`). Times are epoch ms. */
export interface Circuit {
  readonly state: 'closed' | 'open';
  readonly consecutiveFailures: number;
  /** When it last opened; null while closed. */
  readonly openedAt: number | null;
  /** When the current half-open probe was handed out; null when none is out. */
  readonly probeStartedAt: number | null;
}

/** Options of the breaker. */
export interface CircuitOptions {
  /** Consecutive failures that open a closed circuit. Default 5. */
  readonly failureThreshold?: number;
  /** How long an open circuit stays shut before it half-opens, ms. Default 10 000. */
  readonly coolDownMs?: number;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOL_DOWN_MS = 10_000;

/** A closed circuit with no failures: every new route starts here. */
export const CLOSED: Circuit = {
  state: 'closed',
  consecutiveFailures: 0,
  openedAt: null,
  probeStartedAt: null,
};

function resolved(opts: CircuitOptions): Required<CircuitOptions> {
  return {
    failureThreshold: opts.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
    coolDownMs: opts.coolDownMs ?? DEFAULT_COOL_DOWN_MS,
  };
}

/** The state as ranking sees it at `now`: an open circuit past its cool-down is `half_open`. */
export function circuitState(c: Circuit, now: number, opts: CircuitOptions = {}): CircuitState {
  if (c.state === 'closed') return 'closed';
  const { coolDownMs } = resolved(opts);
  return now - (c.openedAt ?? now) >= coolDownMs ? 'half_open' : 'open';
}

/**
 * True when a half-open circuit can hand out its probe at `now`: none is out, or the one out
 * has not reported within a cool-down (its worker died).
 */
export function probeAvailable(c: Circuit, now: number, opts: CircuitOptions = {}): boolean {
  if (circuitState(c, now, opts) !== 'half_open') return false;
  const { coolDownMs } = resolved(opts);
  return c.probeStartedAt === null || now - c.probeStartedAt >= coolDownMs;
}

/** Hands out the probe (see {@link probeAvailable}); returns the circuit unchanged when none is available. */
export function takeProbe(c: Circuit, now: number, opts: CircuitOptions = {}): Circuit {
  return probeAvailable(c, now, opts) ? { ...c, probeStartedAt: now } : c;
}

/** A success closes the circuit, whatever its state. */
export function recordSuccess(_c: Circuit): Circuit {
  return CLOSED;
}

/**
 * A failure counts; the Nth consecutive one opens a closed circuit. On a half-open circuit (the
 * probe, or a late failure after the cool-down) it re-opens with a fresh cool-down; inside the
 * cool-down it only counts.
 */
export function recordFailure(c: Circuit, now: number, opts: CircuitOptions = {}): Circuit {
  const { failureThreshold } = resolved(opts);
  const consecutiveFailures = c.consecutiveFailures + 1;
  const state = circuitState(c, now, opts);
  if (state === 'half_open')
    return { state: 'open', consecutiveFailures, openedAt: now, probeStartedAt: null };
  if (state === 'open') return { ...c, consecutiveFailures };
  if (consecutiveFailures >= failureThreshold) {
    return { state: 'open', consecutiveFailures, openedAt: now, probeStartedAt: null };
  }
  return { ...c, consecutiveFailures };
}

/** Folds outcomes in order (`true` = success). */
export function recordOutcomes(
  c: Circuit,
  outcomes: readonly boolean[],
  now: number,
  opts: CircuitOptions = {},
): Circuit {
  return outcomes.reduce((acc, ok) => (ok ? recordSuccess(acc) : recordFailure(acc, now, opts)), c);
}
