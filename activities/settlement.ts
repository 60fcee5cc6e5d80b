import { Context } from '@temporalio/activity';
import { settle } from '../db/ledger.ts';
import { transitionMessage } from '../db/messages.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { isTerminal } from '../domain/status.ts';
import { afterTransition } from './callbacks.ts';
import type { ActivityDeps } from './deps.ts';
import { settleFailoverLeg } from './failover.ts';
import type { FinishInput, FinishResult } from './types.ts';

/**
 * Capture what the carrier billed, release the rest, then record the final status: money is
 * settled before a message is ever seen terminal. Both steps are idempotent per message id.
 */
export function createSettlementActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async finishMessage(input: FinishInput): Promise<FinishResult> {
      const settled = await settle(db, {
        accountId: input.accountId,
        messageId: input.messageId,
        captureMicros: parseMoney(input.capture),
      });
      // A failover after a receipt reserved its second leg apart; each leg captures its own bill.
      const leg =
        input.failoverCapture === undefined
          ? { capturedMicros: 0n, releasedMicros: 0n }
          : await settleFailoverLeg(deps, { ...input, capture: input.failoverCapture });
      const capturedMicros = settled.capturedMicros + leg.capturedMicros;
      const releasedMicros = settled.releasedMicros + leg.releasedMicros;
      const finished = await transitionMessage(
        db,
        input.messageId,
        input.status,
        {
          price_micros: capturedMicros,
          ...(input.carrierId ? { carrier_id: input.carrierId } : {}),
          ...(input.carrierMessageId ? { carrier_message_id: input.carrierMessageId } : {}),
          error_code: input.error?.code ?? null,
          error_message: input.error?.message ?? null,
          carrier_error_code: input.error?.carrierCode ?? null,
        },
        input.error ? { error: input.error.code } : undefined,
      );
      // The workflow decided a final status the row cannot take: the two disagree. Not swallowed:
      // an error in the log names both (the money above is settled either way).
      if (!finished.changed && finished.message && !isTerminal(finished.message.status)) {
        Context.current().log.error('the final status was refused by the status machine', {
          messageId: input.messageId,
          rowStatus: finished.message.status,
          finalStatus: input.status,
        });
      }
      // The final status must reach the callback workflow: a failure here retries this activity,
      // and the retry signals again even though the transition is then a no-op.
      await afterTransition(deps, finished.message, { mustSucceed: true });
      for (const o of input.deliveryOutcomes ?? []) {
        deps.routeStats?.receiptOutcome(o.carrierId, o.country, o.delivered, o.latencyMs);
      }
      return { captured: formatMoney(capturedMicros), released: formatMoney(releasedMicros) };
    },
  };
}
