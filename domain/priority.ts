/**
 * Priority lanes (DESIGN §9). A message's lane orders it everywhere it can wait: Temporal's task
 * queues (priorityKey, lower first), the carrier pacer's booking horizon and the stranded-message
 * reconciler. Within a lane, Temporal Fairness keyed by account keeps one flood from starving others.
 */

/** Lanes, most urgent first. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The lane of a message that names none. */
export const DEFAULT_PRIORITY: Priority = 'normal';

/**
 * Temporal's `priorityKey` per lane: 1 is dispatched first; 3 is Temporal's own default, so a
 * `normal` message and a task that names no priority share a level. 2 and 4 are left free for
 * lanes between these.
 */
export const PRIORITY_KEYS: Readonly<Record<Priority, number>> = { high: 1, normal: 3, low: 5 };

/**
 * How far ahead (ms) a message of each lane may book a carrier's send timeline (the pacer,
 * db/rate-limit.ts). A slower lane waits at the back of the line instead of holding slots far
 * ahead, so the timeline is never booked more than a second or two ahead by bulk traffic and an
 * urgent message finds a slot right behind what is already in flight.
 */
export const BOOKING_HORIZON_MS: Readonly<Record<Priority, number>> = {
  high: 30_000,
  normal: 2_000,
  low: 1_000,
};

/** Longest a submit waits for a slot, whatever its lane, before the workflow is told to back off. */
export const MAX_PACED_WAIT_MS = 30_000;

/**
 * How far ahead a local submit (one that holds a workflow task slot while it waits) may book:
 * beyond this the carrier has a line, and the message joins it on the carrier's task queue, where
 * the server serves lanes in order and worker slots are not tied up waiting.
 */
export const LOCAL_SUBMIT_HORIZON_MS = 250;
