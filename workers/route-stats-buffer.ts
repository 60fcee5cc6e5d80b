/**
 * The worker's in-memory aggregator of route observations (DESIGN §6: batched stats). The
 * activities feed it submit outcomes with their latency and final receipts with theirs; every
 * `flushMs` it writes ONE upsert per (carrier, country) with the batch folded into affine EWMA
 * updates, so a hot destination costs a statement per flush instead of a row lock per message.
 *
 * The breaker must not wait for a flush: each route's circuit is also kept here (the row as of
 * the last flush, plus this worker's outcomes since), so the Nth failure trips it at once for
 * this worker; the flush then carries it to the row for every other worker.
 */
import type { Kysely } from 'kysely';
import type { RouteFeedback } from '../activities/deps.ts';
import { DEFAULT_EWMA_ALPHA, DEFAULT_ROUTE_STATS_FLUSH_MS } from '../config/defaults.ts';
import { applyRouteStatsBatch, type RouteStatsBatch } from '../db/route-stats.ts';
import type { Database } from '../db/schema.ts';
import {
  type Circuit,
  type CircuitOptions,
  CLOSED,
  DEFAULT_COOL_DOWN_MS,
  DEFAULT_FAILURE_THRESHOLD,
  recordFailure,
  recordSuccess,
} from '../domain/circuit.ts';
import { foldEwma } from '../domain/routing.ts';

/** Options of {@link createRouteStatsBuffer}. */
export interface RouteStatsBufferOptions {
  readonly db: Kysely<Database>;
  /** EWMA weight of one observation, in (0, 1]. Default 0.1. */
  readonly alpha?: number;
  /** How often pending observations are written, ms. Default 500. */
  readonly flushMs?: number;
  /** Breaker settings. Defaults: 5 failures, 10 s cool-down. */
  readonly circuit?: CircuitOptions;
  /** Called when a flush fails (the batch is kept for the next one). Default: console.warn. */
  readonly onError?: (err: unknown) => void;
}

type Observation =
  | { readonly type: 'submit'; readonly ok: boolean; readonly latencyMs: number }
  | { readonly type: 'receipt'; readonly delivered: boolean; readonly latencyMs: number };

export interface RouteStatsBuffer extends RouteFeedback {
  /** Writes everything pending now (also runs every `flushMs`). */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  stop(): Promise<void>;
  /** Forgets everything pending and every circuit view (tests that reset `route_stats`). */
  reset(): void;
}

const keyOf = (carrierId: string, country: string): string => `${carrierId}\u0000${country}`;

/** Folds one route's observations into the batch the upsert applies. */
export function foldObservations(
  carrierId: string,
  country: string,
  observations: readonly Observation[],
  alpha: number,
): RouteStatsBatch {
  const submits = observations.filter((o) => o.type === 'submit');
  const receipts = observations.filter((o) => o.type === 'receipt');
  let lastSuccess = -1;
  submits.forEach((o, i) => {
    if (o.ok) lastSuccess = i;
  });
  return {
    carrierId,
    country,
    outcomes: submits.length,
    acceptance: foldEwma(
      submits.map((o) => (o.ok ? 1 : 0)),
      alpha,
    ),
    hadSuccess: lastSuccess >= 0,
    trailingFailures: submits.length - 1 - lastSuccess,
    submitLatency: foldEwma(
      submits.map((o) => o.latencyMs),
      alpha,
    ),
    receipts: receipts.length,
    delivery: foldEwma(
      receipts.map((o) => (o.delivered ? 1 : 0)),
      alpha,
    ),
    receiptLatency: foldEwma(
      receipts.map((o) => o.latencyMs),
      alpha,
    ),
  };
}

/** Starts the buffer's flush timer (unref'd: it never keeps a process alive). */
export function createRouteStatsBuffer(opts: RouteStatsBufferOptions): RouteStatsBuffer {
  const alpha = opts.alpha ?? DEFAULT_EWMA_ALPHA;
  const circuitOpts: Required<CircuitOptions> = {
    failureThreshold: opts.circuit?.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
    coolDownMs: opts.circuit?.coolDownMs ?? DEFAULT_COOL_DOWN_MS,
  };
  const onError = opts.onError ?? ((err: unknown) => console.warn('route stats flush failed:', err));
  let pending = new Map<string, { carrierId: string; country: string; list: Observation[] }>();
  const circuits = new Map<string, Circuit>();
  let flushing: Promise<void> | undefined;

  const add = (carrierId: string, country: string, o: Observation): void => {
    const key = keyOf(carrierId, country);
    const entry = pending.get(key) ?? { carrierId, country, list: [] };
    entry.list.push(o);
    pending.set(key, entry);
  };

  async function flushOnce(): Promise<void> {
    const batch = pending;
    pending = new Map();
    for (const [key, entry] of batch) {
      try {
        const row = await applyRouteStatsBatch(
          opts.db,
          foldObservations(entry.carrierId, entry.country, entry.list, alpha),
          circuitOpts,
        );
        // The row now holds this batch; replay only what arrived while it was being written.
        const since = pending.get(key)?.list.filter((o) => o.type === 'submit') ?? [];
        const now = Date.now();
        circuits.set(
          key,
          since.reduce((c, o) => (o.ok ? recordSuccess(c) : recordFailure(c, now, circuitOpts)), row),
        );
      } catch (err) {
        onError(err);
        const later = pending.get(key);
        pending.set(key, { ...entry, list: [...entry.list, ...(later?.list ?? [])] });
      }
    }
  }

  const flush = (): Promise<void> => {
    // One flush at a time; a call during one waits for it and then writes what is left.
    const run = (flushing ?? Promise.resolve()).then(flushOnce);
    const tracked: Promise<void> = run.finally(() => {
      if (flushing === tracked) flushing = undefined;
    });
    flushing = tracked;
    return run;
  };

  const timer = setInterval(() => {
    if (pending.size > 0 && !flushing) void flush();
  }, opts.flushMs ?? DEFAULT_ROUTE_STATS_FLUSH_MS);
  timer.unref();

  return {
    submitOutcome(carrierId, country, ok, latencyMs) {
      add(carrierId, country, { type: 'submit', ok, latencyMs });
      const key = keyOf(carrierId, country);
      const c = circuits.get(key) ?? CLOSED;
      circuits.set(key, ok ? recordSuccess(c) : recordFailure(c, Date.now(), circuitOpts));
    },
    receiptOutcome(carrierId, country, delivered, latencyMs) {
      add(carrierId, country, { type: 'receipt', delivered, latencyMs });
    },
    circuit(carrierId, country) {
      return circuits.get(keyOf(carrierId, country));
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
    reset() {
      pending = new Map();
      circuits.clear();
    },
  };
}
