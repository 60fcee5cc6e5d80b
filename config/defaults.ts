/**
 * Defaults that both the environment (config/env.ts) and the modules they tune use: written once,
 * here. Slot defaults live in config/worker-defaults.ts, breaker defaults in domain/circuit.ts,
 * score weights in domain/routing.ts.
 */

/** Share of messages that try a non-top route first (ROUTING_EXPLORATION), 0..1. */
export const DEFAULT_EXPLORATION_SHARE = 0.05;
/** Weight of one observation in a route's moving averages (ROUTING_EWMA_ALPHA). */
export const DEFAULT_EWMA_ALPHA = 0.1;
/** How often a worker writes its batched route observations, ms (ROUTE_STATS_FLUSH_MS). */
export const DEFAULT_ROUTE_STATS_FLUSH_MS = 500;
/** Age after which an `accepted` row without a workflow is started, ms (STRANDED_MESSAGE_GRACE_MS). */
export const DEFAULT_STRANDED_GRACE_MS = 30_000;
/** Pause between reconciler passes, ms (STRANDED_MESSAGE_INTERVAL_MS). */
export const DEFAULT_STRANDED_INTERVAL_MS = 15_000;
/** First retry delay of a failed status callback, doubling per attempt, ms (CALLBACK_RETRY_INITIAL_MS). */
export const DEFAULT_CALLBACK_RETRY_INITIAL_MS = 1_000;
/** Longest wait for a callback receiver's answer, ms (CALLBACK_TIMEOUT_MS). */
export const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000;

/**
 * The PostgreSQL server where development stacks (tests, benchmarks, the chaos run) create their
 * throw-away databases: the local trust-auth server. Tests read TEST_PG_ADMIN_URL, benchmarks
 * DATABASE_URL's server, before falling back to it.
 */
export const DEFAULT_DEV_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Longest one call to Temporal waits (the SDK's own retries included) — a workflow start, a signal,
 * an update, a query — before the caller gives up: the API then answers 503, so a client or carrier
 * retrying beats a connection held open while Temporal is down; the reconciler moves on to its next
 * message. Milliseconds.
 */
export const TEMPORAL_CALL_TIMEOUT_MS = 10_000;
