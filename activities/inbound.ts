/**
 * The inbound workflow's steps (DESIGN §11; workflows/handle-inbound.ts):
 * - `prepareInboundReply` stores the message answering a keyword (STOP, START, HELP) from the
 *   number that received it, in the `high` lane; one per inbound message (idempotent insert).
 * - `forwardInbound` POSTs the inbound message to the account's `inbound_url`, signed like
 *   status callbacks (Herald's JSON, or Twilio's form post for `inbound_format = 'twilio'`),
 *   once: a recorded outcome makes a redelivery a no-op.
 * - `abandonInboundForward` records that forwarding was given up.
 */
import { twilioIncomingParams } from '../adapters/twilio-format.ts';
import { signingSecrets } from '../db/callbacks.ts';
import {
  getForwardTarget,
  getInbound,
  getKeywordReplies,
  recordForward,
  recordInboundReply,
} from '../db/inbound.ts';
import type { InboundMessage } from '../db/schema.ts';
import { inboundReplyMessageId, twilioSid } from '../domain/ids.ts';
import { keywordReply } from '../domain/inbound-keywords.ts';
import { normalizePhone } from '../domain/phone.ts';
import type { PreparedMessageRun } from '../workflows/start-message-run.ts';
import { callbackPoster, heraldSignedJson, twilioSignedForm } from './callbacks.ts';
import type { ActivityDeps } from './deps.ts';
import { storeOwnedMessage } from './owned-messages.ts';

/** Validity of a keyword reply: a confirmation that arrives a day late confuses more than it helps. */
const REPLY_VALIDITY_SECONDS = 3_600;

export type PreparedInboundReply =
  | ({ readonly ok: true } & PreparedMessageRun)
  | { readonly ok: false; readonly reason: 'none' | 'no_route' };

/** The JSON body POSTed to an account's `inbound_url` (`inbound_format = 'herald'`). */
export interface InboundEvent {
  readonly type: 'message.inbound';
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly parts: number;
  /** The opt-out keyword the body is (already applied), or null. */
  readonly keyword: InboundMessage['keyword'];
  readonly carrier: string;
  readonly receivedAt: string;
}

export function createInboundActivities(deps: ActivityDeps) {
  const { db, callbacks } = deps;
  const post = callbackPoster(callbacks);
  return {
    async prepareInboundReply(input: { readonly inboundId: string }): Promise<PreparedInboundReply> {
      const inbound = await getInbound(db, input.inboundId);
      if (!inbound?.account_id || inbound.keyword === null) return { ok: false, reason: 'none' };
      const account = await getKeywordReplies(db, inbound.account_id);
      if (!account) return { ok: false, reason: 'none' };
      const text = keywordReply(inbound.keyword, account[`${inbound.keyword}_reply`]);
      const phone = normalizePhone(inbound.from_number);
      if (text === null || !phone.ok) return { ok: false, reason: 'none' };
      const stored = await storeOwnedMessage(db, {
        id: inboundReplyMessageId(inbound.id),
        accountId: inbound.account_id,
        requestHash: `inbound-reply:${inbound.id}`,
        to: phone.e164,
        country: phone.country,
        // From the number the keyword was sent to: the account owns it.
        from: inbound.to_number,
        body: text,
        validitySeconds: REPLY_VALIDITY_SECONDS,
      });
      if (!stored) return { ok: false, reason: 'no_route' };
      await recordInboundReply(db, inbound.id, stored.messageId);
      return { ok: true, ...stored };
    },

    /** @returns what came of it; a retryable failure is thrown for anything else. */
    async forwardInbound(input: {
      readonly inboundId: string;
    }): Promise<{ outcome: 'delivered' | 'gone' | 'refused' | 'none' | 'skipped' }> {
      const inbound = await getInbound(db, input.inboundId);
      if (!inbound?.account_id || inbound.forward_outcome !== null) return { outcome: 'skipped' };
      const account = await getForwardTarget(db, inbound.account_id);
      if (!account?.inbound_url) {
        await recordForward(db, inbound.id, 'none');
        return { outcome: 'none' };
      }
      const url = account.inbound_url;
      const { body, headers } =
        account.inbound_format === 'twilio' && account.account_sid && account.auth_token
          ? twilioSignedForm(
              url,
              twilioIncomingParams({
                sid: twilioSid(inbound.id),
                accountSid: account.account_sid,
                from: inbound.from_number,
                to: inbound.to_number,
                body: inbound.body,
                segments: inbound.parts,
              }),
              account.auth_token,
            )
          : heraldSignedJson(inboundEvent(inbound), inbound.id, signingSecrets(account));
      const outcome = await post({ url, body, headers }, async (result) => {
        if (result === 'failed') await recordForward(db, inbound.id);
        else await recordForward(db, inbound.id, result);
      });
      return { outcome };
    },

    async abandonInboundForward(input: { readonly inboundId: string }): Promise<void> {
      await recordForward(db, input.inboundId, 'abandoned');
    },
  };
}

export function inboundEvent(inbound: InboundMessage): InboundEvent {
  return {
    type: 'message.inbound',
    id: inbound.id,
    from: inbound.from_number,
    to: inbound.to_number,
    body: inbound.body,
    parts: inbound.parts,
    keyword: inbound.keyword,
    carrier: inbound.carrier_id,
    receivedAt: inbound.received_at.toISOString(),
  };
}
