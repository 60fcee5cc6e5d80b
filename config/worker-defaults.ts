/**
 * Worker slot defaults (env: WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, WORKER_MAX_CONCURRENT_ACTIVITIES).
 *
 * Slots decide where a backlog waits. Temporal dispatches a task queue's backlog in priority order
 * (DESIGN §9), but a task a worker has already taken waits in that worker's own first-come line.
 * So a worker takes only what it can start at once: the rest stays on the server, where a `high`
 * message overtakes it.
 */

/**
 * Workflow tasks one worker holds at once. Workflow code runs on one thread, so more slots add no
 * speed, only a hidden line: at 100 (the SDK's default) an urgent message waited behind ~130
 * bulk ones inside the worker. A task holds its slot while its local activities run, so it is
 * not 1 either.
 */
export const DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS = 10;

/**
 * How long a submit may wait on a carrier's task queue for a worker before the message fails over,
 * ms (env CARRIER_QUEUE_TIMEOUT_MS): long enough for a lane's backlog under the carrier's TPS,
 * short enough that a carrier no worker polls does not hold its messages.
 */
export const DEFAULT_CARRIER_QUEUE_TIMEOUT_MS = 300_000;

/**
 * Submit activities one worker runs at once on one carrier queue, at most: each carrier queue
 * gets one second of its throughput limit (`tps`), at least 10 and never more than this.
 */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 200;

/** Slots of a carrier queue's worker: one second of the carrier's `tps`, within [10, `max`]. */
export function carrierActivitySlots(tps: number, max: number): number {
  return Math.max(1, Math.min(max, Math.max(10, Math.ceil(tps))));
}

/**
 * Node flags of every worker process (`npm run worker`, `npm start`, the image, tests, bench).
 * Written out in package.json and docker-compose.yml as well (test/unit/compose.test.ts checks).
 * - `--max-semi-space-size=4`: a 4 MiB young-generation semi-space (V8's default is 16 MiB, per
 *   isolate: the main thread and the workflow thread) cut the worker's peak RSS by ~40 MiB at no
 *   measured CPU cost.
 * - `--heap-growing-percent=50`: after a full GC the old generation may grow to 1.5 × what
 *   survived before the next one (V8 lets it reach up to 4 × on a big machine). The worker's
 *   garbage is mostly short-lived request state promoted out of the small young generation; it
 *   piled up to ~200 MiB of dead heap before a full GC (peak RSS 325–338 → 267–291 MiB, CPU per
 *   message within the run-to-run noise).
 *
 * Measured in bench/results/README.md.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=50'];

/**
 * Environment every worker process starts with, under what the operator sets. `MALLOC_ARENA_MAX=2`:
 * glibc opens up to eight malloc arenas per core for a process whose threads allocate at once (the
 * Temporal core's Rust threads, the workflow thread, libuv's pool), each keeping its own free
 * memory; two hold the same allocations with less of it resident (worker peak RSS −25 to −50 MiB).
 */
export const WORKER_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
