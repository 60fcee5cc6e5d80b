/**
 * The verification workflow's database steps (DESIGN §10), run as local activities:
 * - `prepareVerificationMessage` stores the verification's `send`-th message (its body with the
 *   code masked, `high` lane, the verification's id on the row) and answers the sendMessage input
 *   the workflow starts it with; the same `send` always gives the same message (idempotent insert).
 * - `recordVerification` writes the workflow's state: checks left, and the decision once.
 */
import { recordVerification as recordRow } from '../db/verifications.ts';
import { verificationMessageId } from '../domain/ids.ts';
import { DEFAULT_SENDER } from '../domain/senders.ts';
import {
  MAX_SENDS,
  renderMaskedBody,
  type VerificationLocale,
  type VerificationStatus,
  verificationTemplate,
} from '../domain/verification.ts';
import type { SendMessageInput } from '../workflows/definitions.ts';
import type { ActivityDeps } from './deps.ts';
import { storeOwnedMessage } from './owned-messages.ts';

export interface PrepareVerificationMessageInput {
  readonly verificationId: string;
  /** 1-based; at most MAX_SENDS. */
  readonly send: number;
}

export type PreparedVerificationMessage =
  | {
      readonly ok: true;
      readonly messageId: string;
      readonly input: SendMessageInput;
      readonly summary: string;
      readonly details: string;
    }
  | { readonly ok: false; readonly reason: 'not_found' | 'no_route' | 'expired' };

export interface RecordVerificationInput {
  readonly verificationId: string;
  readonly status: VerificationStatus;
  readonly checksLeft: number;
}

export function createVerificationActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async prepareVerificationMessage(
      input: PrepareVerificationMessageInput,
    ): Promise<PreparedVerificationMessage> {
      if (input.send < 1 || input.send > MAX_SENDS)
        throw new RangeError(`send ${input.send} is out of range`);
      const v = await db
        .selectFrom('verifications')
        .selectAll()
        .where('id', '=', input.verificationId)
        .executeTakeFirst();
      if (!v) return { ok: false, reason: 'not_found' };
      const validitySeconds = Math.floor((v.expires_at.getTime() - Date.now()) / 1000);
      if (validitySeconds < 1) return { ok: false, reason: 'expired' };
      const masked = renderMaskedBody(
        verificationTemplate({
          locale: v.locale as VerificationLocale,
          appName: v.app_name,
          template: v.template,
        }),
        v.app_name,
        v.code_length,
      );
      const messageId = verificationMessageId(v.id, input.send);
      const stored = await storeOwnedMessage(db, {
        id: messageId,
        accountId: v.account_id,
        requestHash: `verification:${v.id}:${input.send}`,
        to: v.to_number,
        country: v.country,
        from: DEFAULT_SENDER,
        body: masked.body,
        // The message lives no longer than the code it carries.
        validitySeconds,
        verificationId: v.id,
      });
      if (!stored) return { ok: false, reason: 'no_route' };
      await recordRow(db, v.id, { sends: input.send, lastSentAt: new Date(), messageId });
      return {
        ok: true,
        messageId,
        input: {
          ...stored.input,
          code: { verificationId: v.id, offset: masked.codeOffset, length: masked.codeLength },
        },
        summary: stored.summary,
        details: stored.details,
      };
    },

    async recordVerification(input: RecordVerificationInput): Promise<void> {
      await recordRow(db, input.verificationId, { status: input.status, checksLeft: input.checksLeft });
    },
  };
}
