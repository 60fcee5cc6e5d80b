import { heartbeat } from '@temporalio/activity';
import { recordRouteOutcome } from '../db/carriers.ts';
import { beginAttempt, finishAttempt, transitionMessage } from '../db/messages.ts';
import type { CarrierError } from '../domain/carrier-error.ts';
import { afterTransition } from './callbacks.ts';
import { type ActivityDeps, statusCallbackUrl } from './deps.ts';
import type { SubmitInput, SubmitOutcome } from './types.ts';

const HEARTBEAT_EVERY_MS = 1_000;

/** A previous try of this very attempt died mid-request: the carrier may hold the message. */
const MAYBE_SENT: CarrierError = {
  class: 'ambiguous',
  code: 'submit_interrupted',
  message: 'a previous try of this submit was interrupted after it may have reached the carrier',
};

/**
 * Submit one message to one carrier. Runs on the carrier's own task queue, so the server-side
 * rate limit of that queue is the carrier's TPS. Never throws for a carrier's answer: the
 * workflow decides what an error class means.
 */
export function createSubmissionActivities(deps: ActivityDeps) {
  const { db, adapterFor, publicBaseUrl } = deps;
  return {
    async submitToCarrier(input: SubmitInput): Promise<SubmitOutcome> {
      const adapter = adapterFor(input.carrierId);
      if (!adapter) {
        return {
          ok: false,
          error: {
            class: 'failover',
            code: 'carrier_unavailable',
            message: `carrier ${input.carrierId} is not configured`,
          },
        };
      }
      // The attempt row is written before the request: if this process dies mid-request the
      // retry finds it unfinished and must not send blindly a second time.
      const { fresh, row } = await beginAttempt(db, {
        messageId: input.messageId,
        carrierId: input.carrierId,
        attempt: input.attempt,
      });
      if (!fresh) {
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
      const sending = await transitionMessage(db, input.messageId, 'sending', {
        carrier_id: input.carrierId,
      });
      // Best effort (never throws: a retry would think the carrier may have the message), and
      // alongside the submit so the carrier call is not delayed.
      const sendingQueued = afterTransition(deps, sending.message, { mustSucceed: false });

      const beat = setInterval(() => heartbeat(), HEARTBEAT_EVERY_MS);
      let result: Awaited<ReturnType<typeof adapter.submit>>;
      try {
        result = await adapter.submit({
          messageId: input.messageId,
          to: input.to,
          from: input.from,
          body: input.body,
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
        await finishAttempt(db, {
          messageId: input.messageId,
          attempt: input.attempt,
          outcome: 'accepted',
          carrierMessageId: result.carrierMessageId,
        });
        const sent = await transitionMessage(db, input.messageId, 'sent', {
          carrier_id: input.carrierId,
          carrier_message_id: result.carrierMessageId,
        });
        await afterTransition(deps, sent.message, { mustSucceed: false });
        await recordRouteOutcome(db, { carrierId: input.carrierId, country: input.country, success: true });
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
        await recordRouteOutcome(db, { carrierId: input.carrierId, country: input.country, success: false });
      }
      return { ok: false, error };
    },
  };
}
