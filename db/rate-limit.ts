/**
 * Per-carrier throughput in segments per second, shared by every worker through one row per
 * carrier (`carrier_rate_limits`). It paces rather than buckets (GCRA-style virtual scheduling):
 * each caller reserves the next `segments / rate` seconds of the carrier's timeline in ONE
 * statement and waits until its slot starts. Slots never overlap, so in any one-second window
 * at most `rate` segments start, plus the one request straddling the window's edge; the submit
 * activity books a little under the carrier's limit (`bookedSegmentsPerSecond`,
 * activities/submission.ts) so that even that one, and a send that starts a little late, stay within
 * it. No burst allowance: carriers count per second, and a burst is exactly what gets a sender
 * throttled.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

/** Input of {@link reserveSendSlot}. */
export interface SendSlotInput {
  carrierId: string;
  /** Segments this submit sends (>= 1). */
  segments: number;
  /** The carrier's limit, segments per second (> 0). */
  segmentsPerSecond: number;
  /** Refuse a slot that starts further ahead than this, ms (back-pressure). Default 30 000. */
  maxWaitMs?: number;
}

export type SendSlot =
  /**
   * Send from `startAtMs` (epoch ms on the database's clock; compare with the local clock, not
   * with the time the answer arrived, which pool queueing can delay) for `slotMs`.
   */
  | { readonly ok: true; readonly startAtMs: number; readonly slotMs: number }
  /** The timeline is booked further ahead than `maxWaitMs`: try again later. */
  | { readonly ok: false; readonly retryAfterMs: number };

/**
 * Reserves a send slot for `segments` on the carrier's shared timeline (database clock).
 * One conditional upsert: `next_free = max(next_free, now) + segments / rate`, only when the
 * slot would start within `maxWaitMs`.
 */
export async function reserveSendSlot(db: Kysely<Database>, input: SendSlotInput): Promise<SendSlot> {
  if (!(input.segmentsPerSecond > 0)) throw new RangeError('segmentsPerSecond must be > 0');
  const segments = Math.max(1, Math.floor(input.segments));
  const maxWaitMs = input.maxWaitMs ?? 30_000;
  const costMs = (segments * 1000) / input.segmentsPerSecond;
  const nowMs = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::float8`;
  const t = sql.table('carrier_rate_limits');
  const start = sql<number>`greatest(${t}.next_free_ms, ${nowMs})`;
  const row = await db
    .insertInto('carrier_rate_limits')
    .values({ carrier_id: input.carrierId, next_free_ms: sql<number>`${nowMs} + ${costMs}::float8` })
    .onConflict((oc) =>
      oc
        .column('carrier_id')
        .doUpdateSet({ next_free_ms: sql<number>`${start} + ${costMs}::float8` })
        .where(sql<boolean>`${start} <= ${nowMs} + ${maxWaitMs}::float8`),
    )
    .returning(sql<number>`next_free_ms - ${costMs}::float8`.as('start_ms'))
    .executeTakeFirst();
  if (row) return { ok: true, startAtMs: Number(row.start_ms), slotMs: costMs };
  return { ok: false, retryAfterMs: Math.max(100, Math.round(costMs)) };
}
