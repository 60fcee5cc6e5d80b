import { Context } from '@temporalio/activity';
import { listPrices } from '../db/carriers.ts';
import { settle } from '../db/ledger.ts';
import { getMessage, listAttempts, transitionMessage } from '../db/messages.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { isTerminal } from '../domain/status.ts';
import type { LogFn } from '../observability/logger.ts';
import { afterTransition } from './callbacks.ts';
import type { ActivityDeps } from './deps.ts';
import { settleFailoverLeg } from './failover.ts';
import type { FinishInput, FinishResult } from './types.ts';

/**
 * Capture what the carrier billed, release the rest, then record the final status: money is
 * settled before a message is ever seen terminal. Both steps are idempotent per message id.
 */
export function createSettlementActivities(deps: ActivityDeps) {
  return {
    async finishMessage(input: FinishInput): Promise<FinishResult> {
      return settleAndFinish(deps, input, activityLog());
    },
    /** An operator canceled the run after a carrier may have seen the message: see {@link settleAbandonedMessage}. */
    async settleCanceledMessage(input: { messageId: string }): Promise<CanceledSettlement> {
      const settled = await settleAbandonedMessage(deps, input.messageId, activityLog());
      if (settled.outcome === 'not_found') throw new Error(`message ${input.messageId} not found`);
      return settled;
    },
  };
}

const activityLog = (): LogFn => {
  const log = Context.current().log;
  return (level, msg, fields) => log[level](msg, fields);
};

/** How a canceled or abandoned message ended. */
export interface CanceledSettlement {
  readonly status: FinishInput['status'];
  readonly carrierId: string | null;
  /** Decimal string: what its legs captured. */
  readonly captured: string;
}

/**
 * The settlement itself (the `finishMessage` activity, and the reconciler for runs an operator
 * terminated). A final status the row cannot take is logged as an error naming both, not
 * swallowed: the workflow and the database disagree (the money is settled either way).
 */
export async function settleAndFinish(
  deps: ActivityDeps,
  input: FinishInput,
  log: LogFn,
): Promise<FinishResult> {
  const { db } = deps;
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
  if (!finished.changed && finished.message && !isTerminal(finished.message.status)) {
    log('error', 'the final status was refused by the status machine', {
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
}

/**
 * Settles a message whose run closed without settling it (an operator's Terminate runs no
 * workflow code), from what the database knows, the way the workflow settles a cancel:
 * - no attempt was begun: no carrier saw it → `canceled`, everything released;
 * - otherwise → `expired` with `canceled_by_operator`, each leg a carrier accepted charged at the
 *   route's price (as for a message without a receipt); an attempt cut short ("maybe sent") and a
 *   refused one cost nothing.
 * Idempotent: a terminal row is left alone, and the ledger moves are once per message and leg.
 */
export async function settleAbandonedMessage(
  deps: ActivityDeps,
  messageId: string,
  log: LogFn,
): Promise<
  | ({ readonly outcome: 'settled' | 'already_terminal' } & CanceledSettlement)
  | { readonly outcome: 'not_found' }
> {
  const message = await getMessage(deps.db, messageId);
  if (!message) return { outcome: 'not_found' };
  if (isTerminal(message.status)) {
    return {
      outcome: 'already_terminal',
      status: message.status as FinishInput['status'], // terminal, checked above
      carrierId: message.carrier_id,
      captured: formatMoney(message.price_micros ?? 0n),
    };
  }
  const attempts = await listAttempts(deps.db, messageId);
  const accepted = attempts.filter((a) => a.outcome === 'accepted');
  const priceOf = async (carrierId: string): Promise<bigint> => {
    const [price] = await listPrices(deps.db, { carrierId, country: message.country });
    return (price?.price_micros ?? 0n) * BigInt(message.segments);
  };
  const [first, second] = accepted;
  const lastCarrierId = accepted.at(-1)?.carrier_id;
  const input: FinishInput =
    attempts.length === 0
      ? { messageId, accountId: message.account_id, status: 'canceled', capture: '0', failoverCapture: '0' }
      : {
          messageId,
          accountId: message.account_id,
          status: 'expired',
          capture: formatMoney(first ? await priceOf(first.carrier_id) : 0n),
          failoverCapture: formatMoney(second ? await priceOf(second.carrier_id) : 0n),
          error: {
            code: 'canceled_by_operator',
            message: 'an operator ended the run before the message was settled',
          },
          ...(lastCarrierId ? { carrierId: lastCarrierId } : {}),
        };
  // Logged by the caller: the run's cancel handler or the reconciler, each naming how it ended.
  const result = await settleAndFinish(deps, input, log);
  return {
    outcome: 'settled',
    status: input.status,
    carrierId: input.carrierId ?? null,
    captured: result.captured,
  };
}
