import { ApplicationFailure, Context, heartbeat } from '@temporalio/activity';
import { recordRouteOutcome } from '../db/carriers.ts';
import { recordMessageParts } from '../db/message-parts.ts';
import {
  beginSendingAttempt,
  findAttempt,
  finishAttempt,
  finishAttemptAndMove,
  transitionMessage,
} from '../db/messages.ts';
import { reserveSendSlot } from '../db/rate-limit.ts';
import type { MessageAttempt } from '../db/schema.ts';
import { type CarrierError, USE_CARRIER_QUEUE } from '../domain/carrier-error.ts';
import { circuitState } from '../domain/circuit.ts';
import {
  BOOKING_HORIZON_MS,
  DEFAULT_PRIORITY,
  LOCAL_SUBMIT_HORIZON_MS,
  MAX_PACED_WAIT_MS,
} from '../domain/priority.ts';
import { withCode } from '../domain/verification.ts';
import { deriveCode } from '../services/verification-codes.ts';
import type { VerificationCodeRef } from '../workflows/definitions.ts';
import { afterTransition } from './callbacks.ts';
import { type ActivityDeps, statusCallbackUrl } from './deps.ts';
import { routingSettings } from './route-planning.ts';
import type { SubmitInput, SubmitOutcome } from './types.ts';

/**
 * How late a send may start after its slot began (see sendPacer): half its slot, but at least
 * LATE_START_GRACE_MS (slots shorter than a database round trip would never be met) and at most
 * MAX_LATE_START_MS (so the margin below stays small at low rates).
 */
const LATE_START_GRACE_MS = 20;
const MAX_LATE_START_MS = 50;
/** Loopback and event-loop jitter between our send and the carrier's clock, allowed for in the margin. */
const SEND_JITTER_MS = 10;

/** Lateness allowed for a send whose slot lasts `slotMs`. */
const allowedLatenessMs = (slotMs: number): number =>
  Math.min(Math.max(slotMs / 2, LATE_START_GRACE_MS), MAX_LATE_START_MS);

/**
 * The rate the pacer books a carrier at: a little under its limit, so that a send that starts as
 * late as allowed, followed by one on time, still never puts more than `rate` segments into any
 * one-second window at the carrier (2–6 % under: 98/s for 100, 9.4/s for 10).
 */
export function bookedSegmentsPerSecond(rate: number): number {
  const lateness = allowedLatenessMs(1000 / rate);
  return (rate * 1000) / (1000 + lateness + SEND_JITTER_MS);
}
const HEARTBEAT_EVERY_MS = 1_000;

/** A previous try of this very attempt died mid-request: the carrier may hold the message. */
const MAYBE_SENT: CarrierError = {
  class: 'ambiguous',
  code: 'submit_interrupted',
  message: 'a previous try of this submit was interrupted after it may have reached the carrier',
};

/** Why a local submit leaves the carrier to its queue; nothing was sent or recorded. */
const useCarrierQueue = (why: string): CarrierError => ({
  class: 'retry',
  code: USE_CARRIER_QUEUE,
  message: why,
});

/**
 * Submit one message to one carrier. Runs as a local activity of the workflow's worker when the
 * carrier has no line (`input.local`), else on the carrier's own task queue, whose server-side
 * rate limit is the carrier's TPS; either way the shared pacer (db/rate-limit.ts) spaces the sends.
 * Never throws for a carrier's answer: the workflow decides what an error class means.
 */
export function createSubmissionActivities(deps: ActivityDeps) {
  const { db, adapterFor, publicBaseUrl } = deps;
  const submit = async (input: SubmitInput, onBegun: () => void): Promise<SubmitOutcome> => {
    // Refusing without sending is only right when this attempt never began: a retry of an
    // attempt the carrier took (or may hold) must answer from its row, never fail over to a
    // second carrier that would send the message again.
    const answerBegun = async (row: MessageAttempt): Promise<SubmitOutcome> => {
      // Cut short after the row was written: the carrier may hold the message, so it is
      // `sending` (from there a receipt or the validity's end can finish it; from `queued` it
      // could never leave again).
      if (row.outcome === null) {
        await transitionMessage(db, input.messageId, 'sending', { carrier_id: input.carrierId });
      }
      return fromAttemptRow(row, input);
    };
    const refuse = async (outcome: SubmitOutcome): Promise<SubmitOutcome> => {
      const begun = await findAttempt(db, input.messageId, input.attempt);
      return begun ? answerBegun(begun) : outcome;
    };
    // A verification's code goes in here, in memory only; a worker without the secret fails the
    // message as a bug (TypeError: not retried) before anything is written or sent.
    const body = input.code ? bodyWithCode(input.body, input.code, deps.verifySecret) : input.body;
    const adapter = adapterFor(input.carrierId);
    // Another worker may hold this carrier (an SMPP bind, a carrier added since this one started).
    if (!adapter && input.local)
      return refuse({
        ok: false,
        error: useCarrierQueue(`this worker has no session for ${input.carrierId}`),
      });
    if (!adapter) {
      return refuse({
        ok: false,
        error: {
          class: 'failover',
          code: 'carrier_unavailable',
          message: `carrier ${input.carrierId} is not configured`,
        },
      });
    }
    // Tripped since this message was planned: fail over at once instead of piling on.
    const circuit = input.skipIfOpen ? deps.routeStats?.circuit(input.carrierId, input.country) : undefined;
    if (circuit && circuitState(circuit, Date.now(), routingSettings(deps)) !== 'closed') {
      return refuse({
        ok: false,
        error: {
          class: 'failover',
          code: 'circuit_open',
          message: `the route via ${input.carrierId} is open`,
        },
      });
    }
    const pace = sendPacer(deps, input);
    const paced = await pace();
    // A retry of an attempt that began (a worker died mid-request) answers from its row even when
    // the pacer has no slot now: "use the carrier queue" would start a second attempt, a blind resend.
    if (paced) return refuse({ ok: false, error: paced });
    // The attempt row is written before the request: if this process dies mid-request the
    // retry finds it unfinished and must not send blindly a second time. The move to `sending`
    // goes in the same statement.
    const begun = await beginSendingAttempt(db, {
      messageId: input.messageId,
      carrierId: input.carrierId,
      attempt: input.attempt,
    });
    if (!begun.fresh) return answerBegun(begun.row);
    onBegun();
    // Best effort (never throws: a retry would think the carrier may have the message), and
    // alongside the submit so the carrier call is not delayed.
    const sendingQueued = afterTransition(deps, begun.message, { mustSucceed: false });
    // Right before the request: still inside our slot, or a new one (the writes above may have queued).
    const late = await pace();
    if (late) {
      await sendingQueued;
      await finishAttempt(db, {
        messageId: input.messageId,
        attempt: input.attempt,
        outcome: late.class,
        errorCode: late.code,
        errorMessage: late.message,
      });
      return { ok: false, error: late };
    }

    const beat = setInterval(beatUnlessLocal, HEARTBEAT_EVERY_MS);
    let result: Awaited<ReturnType<typeof adapter.submit>>;
    const startedAt = Date.now();
    try {
      result = await adapter.submit({
        messageId: input.messageId,
        to: input.to,
        from: input.from,
        body,
        encoding: input.encoding,
        segments: input.segments,
        validitySeconds: input.validitySeconds,
        statusCallbackUrl: statusCallbackUrl(publicBaseUrl, input.carrierId, input.messageId),
      });
    } finally {
      clearInterval(beat);
    }
    await sendingQueued;

    if (result.ok) {
      // Per-part ids first: receipts naming only a part (SMPP) match from here on.
      if (result.partIds) {
        await recordMessageParts(db, {
          messageId: input.messageId,
          carrierId: input.carrierId,
          partIds: result.partIds,
        });
      }
      // The attempt's outcome and the move to `sent`: one statement.
      const sent = await finishAttemptAndMove(
        db,
        {
          messageId: input.messageId,
          attempt: input.attempt,
          outcome: 'accepted',
          carrierMessageId: result.carrierMessageId,
          ...(result.priceMicros !== undefined ? { carrierCostMicros: result.priceMicros } : {}),
        },
        'sent',
        { carrier_id: input.carrierId, carrier_message_id: result.carrierMessageId },
      );
      await afterTransition(deps, sent.message, { mustSucceed: false });
      await routeOutcome(deps, input, true, Date.now() - startedAt);
      return {
        ok: true,
        carrierMessageId: result.carrierMessageId,
        segments: result.segments ?? input.segments,
        receiptParts: result.receiptParts ?? 1,
      };
    }
    const { error } = result;
    await finishAttempt(db, {
      messageId: input.messageId,
      attempt: input.attempt,
      outcome: error.class,
      errorCode: error.code,
      errorMessage: error.message,
      ...(error.carrierCode ? { carrierErrorCode: error.carrierCode } : {}),
    });
    // A recipient problem says nothing about the route's health.
    if (error.class !== 'permanent') {
      await routeOutcome(deps, input, false, Date.now() - startedAt);
    }
    return { ok: false, error };
  };
  return {
    async submitToCarrier(input: SubmitInput): Promise<SubmitOutcome> {
      let begun = false;
      try {
        return await submit(input, () => {
          begun = true;
        });
      } catch (err) {
        // Past the attempt row the carrier may hold the message: whatever failed, the retry must
        // answer from that row ("maybe sent"), never end the message as a bug that sent nothing.
        if (begun && (!(err instanceof ApplicationFailure) || err.nonRetryable)) {
          throw ApplicationFailure.retryable(
            err instanceof Error ? err.message : String(err),
            'AfterAttemptBegun',
          );
        }
        throw err;
      }
    },
  };
}

/** What a begun attempt answers when it is tried again: its recorded outcome, or "maybe sent". */
function fromAttemptRow(row: MessageAttempt, input: SubmitInput): SubmitOutcome {
  if (row.outcome === null) return { ok: false, error: MAYBE_SENT };
  return row.outcome === 'accepted' && row.carrier_message_id
    ? { ok: true, carrierMessageId: row.carrier_message_id, segments: input.segments, receiptParts: 1 }
    : {
        ok: false,
        error: {
          class: row.outcome === 'accepted' ? 'ambiguous' : row.outcome,
          code: row.error_code ?? 'unknown',
          message: row.error_message ?? '',
          ...(row.carrier_error_code ? { carrierCode: row.carrier_error_code } : {}),
        },
      };
}

/** Feeds the worker's batched route stats; without them, the single-row update of old. */
async function routeOutcome(
  deps: ActivityDeps,
  input: SubmitInput,
  ok: boolean,
  latencyMs: number,
): Promise<void> {
  if (deps.routeStats) deps.routeStats.submitOutcome(input.carrierId, input.country, ok, latencyMs);
  else await recordRouteOutcome(deps.db, { carrierId: input.carrierId, country: input.country, success: ok });
}

/**
 * Paces the carrier in segments per second across every worker (db/rate-limit.ts). Returns a
 * function that waits (heartbeating) until this message's slot, taking a new one whenever the
 * process wakes up after its slot has passed (a stalled event loop would otherwise send a
 * burst), or a `retry` error when the carrier's timeline is booked too far ahead (the workflow
 * backs off, then fails over). Called once early (most of the wait happens before the attempt row
 * is written) and again right before the request.
 */
function sendPacer(deps: ActivityDeps, input: SubmitInput): () => Promise<CarrierError | undefined> {
  const segmentsPerSecond = deps.carrierSegmentsPerSecond?.(input.carrierId);
  const laneHorizonMs = BOOKING_HORIZON_MS[input.priority ?? DEFAULT_PRIORITY];
  const horizonMs = input.local ? Math.min(laneHorizonMs, LOCAL_SUBMIT_HORIZON_MS) : laneHorizonMs;
  const giveUpAt = Date.now() + MAX_PACED_WAIT_MS;
  let slot: { startAtMs: number; slotMs: number } | undefined;
  return async () => {
    if (segmentsPerSecond === undefined) return undefined;
    for (;;) {
      // A send must start in the first half of its slot: later, it would crowd the next one. At
      // high rates a slot is shorter than one database round trip, so allow a small fixed grace
      // or the activity would book slot after slot and never send.
      if (slot && Date.now() <= slot.startAtMs + allowedLatenessMs(slot.slotMs)) {
        const waitMs = slot.startAtMs - Date.now();
        if (waitMs <= 0) return undefined;
        await waitHeartbeating(waitMs);
        continue;
      }
      const next = await reserveSendSlot(deps.db, {
        carrierId: input.carrierId,
        segments: input.segments,
        segmentsPerSecond: bookedSegmentsPerSecond(segmentsPerSecond),
        maxWaitMs: horizonMs,
      });
      if (!next.ok && input.local) {
        return useCarrierQueue(`${input.carrierId} is booked more than ${horizonMs} ms ahead`);
      }
      if (!next.ok) {
        // Booked beyond this lane's horizon: wait at the back of the line (an urgent message can
        // still book ahead of us meanwhile), then try again, up to the common limit.
        const waitMs = Math.min(Math.max(next.retryAfterMs, horizonMs / 2), giveUpAt - Date.now());
        if (waitMs > 0) {
          await waitHeartbeating(waitMs);
          continue;
        }
        return {
          class: 'retry',
          code: 'rate_limited',
          message: `${input.carrierId} is booked beyond its throughput limit`,
          retryAfterMs: next.retryAfterMs,
        };
      }
      slot = next;
    }
  };
}

/**
 * Sleeps `ms`, heartbeating so the server does not take a long pacer wait for a dead worker. A
 * queued submit that an operator's cancel reaches here stops (CancelledFailure): it waits before
 * its attempt row, so nothing was sent. Past the row a cancel is ignored and the submit finishes.
 */
async function waitHeartbeating(ms: number): Promise<void> {
  const ctx = Context.current();
  const beat = setInterval(beatUnlessLocal, HEARTBEAT_EVERY_MS);
  let timer: NodeJS.Timeout | undefined;
  try {
    const slept = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await (ctx.info.isLocal ? slept : Promise.race([slept, ctx.cancelled]));
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
  }
}

/** Heartbeats a queued activity; a local one has no heartbeat (its workflow task covers it). */
function beatUnlessLocal(): void {
  if (!Context.current().info.isLocal) heartbeat();
}

/** The verification message's body with its code in the masked place. */
function bodyWithCode(masked: string, ref: VerificationCodeRef, secret: string | undefined): string {
  if (!secret)
    throw new TypeError('VERIFY_SECRET is not set on this worker: a verification code cannot be sent');
  return withCode(
    { body: masked, codeOffset: ref.offset, codeLength: ref.length },
    deriveCode(secret, ref.verificationId, ref.length),
  );
}
