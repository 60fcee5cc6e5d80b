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
 * A 4 MiB young-generation semi-space (V8's default is 16 MiB, per isolate: the main thread and the
 * workflow thread) cut the worker's peak RSS by ~40 MiB at no measured CPU cost
 * (bench/results/README.md). Written out in package.json and docker-compose.yml as well.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
