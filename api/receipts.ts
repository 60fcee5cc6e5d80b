/**
 * Carrier receipts after the adapter parsed them (DESIGN §5): persist (deduped), then signal the
 * message's workflow; a closed workflow gets the receipt applied to the row as a late receipt.
 * A receipt is answered 2xx only once it is persisted and delivered, so none is ever lost.
 */
import type { Receipt } from '../adapters/types.ts';
import { findMessageIdByCarrierMessageId, type TransitionPatch, transitionMessage } from '../db/messages.ts';
import { insertReceipt } from '../db/receipts.ts';
import { isMessageId } from '../domain/ids.ts';
import type { MessageStatus } from '../domain/status.ts';
import { signalStatusCallbacks } from '../services/status-callbacks.ts';
import type { ReceiptSignal } from '../workflows/definitions.ts';
import type { AppContext } from './context.ts';
import { serviceUnavailable } from './errors.ts';
import { signalReceipt, TEMPORAL_CALL_TIMEOUT_MS } from './workflow-client.ts';

/**
 * Handles every receipt of one webhook call. All are attempted even when one fails.
 *
 * @param rawBody - the webhook body as received, stored with each receipt for operators.
 * @throws the first failure (an ApiError 503 when Temporal is down), so the carrier retries.
 */
export async function handleReceipts(
  ctx: AppContext,
  carrierId: string,
  receipts: readonly Receipt[],
  rawBody: string,
): Promise<void> {
  const results = await Promise.allSettled(receipts.map((r) => handleReceipt(ctx, carrierId, r, rawBody)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function handleReceipt(
  ctx: AppContext,
  carrierId: string,
  receipt: Receipt,
  rawBody: string,
): Promise<void> {
  const messageId =
    receipt.messageId !== undefined && isMessageId(receipt.messageId)
      ? receipt.messageId
      : await findMessageIdByCarrierMessageId(ctx.db, carrierId, receipt.carrierMessageId);
  await insertReceipt(ctx.db, {
    carrierId,
    carrierMessageId: receipt.carrierMessageId,
    messageId: messageId ?? null,
    status: receipt.status,
    carrierStatus: receipt.carrierStatus,
    errorCode: receipt.errorCode ?? null,
    raw: rawBody,
  });
  if (messageId === undefined) {
    // Kept in `receipts` for operators; the carrier must not retry it forever.
    ctx.log('warn', 'receipt for an unknown message', {
      carrierId,
      carrierMessageId: receipt.carrierMessageId,
    });
    return;
  }
  // Signalled even when the insert was a duplicate: the workflow dedupes, and a receipt whose
  // first signal failed (and was retried by the carrier) is delivered this time.
  const signalled = await signalReceipt(ctx.temporal, messageId, toSignal(carrierId, receipt));
  if (!signalled) await applyLateReceipt(ctx, messageId, carrierId, receipt);
}

function toSignal(carrierId: string, r: Receipt): ReceiptSignal {
  return {
    carrierId,
    carrierMessageId: r.carrierMessageId,
    status: r.status,
    carrierStatus: r.carrierStatus,
    ...(r.errorCode === undefined ? {} : { errorCode: r.errorCode }),
    ...(r.errorMessage === undefined ? {} : { errorMessage: r.errorMessage }),
  };
}

/**
 * The workflow is closed (settled, or expired waiting): the carrier still has the final word on
 * the handset, so the row moves if the status machine allows it (e.g. `expired → delivered`).
 */
async function applyLateReceipt(
  ctx: AppContext,
  messageId: string,
  carrierId: string,
  r: Receipt,
): Promise<void> {
  const late = lateStatus(r.status);
  if (late === undefined) return;
  // Same error fields the workflow writes for a receipt it received in time.
  const patch: TransitionPatch =
    late === 'delivered'
      ? { error_code: null, error_message: null, carrier_error_code: null }
      : {
          error_code: late,
          error_message: r.errorMessage ?? `carrier reported ${r.carrierStatus}`,
          carrier_error_code: r.errorCode ?? null,
        };
  const { changed, message } = await transitionMessage(ctx.db, messageId, late, patch, {
    source: 'late_receipt',
    carrierId,
    carrierStatus: r.carrierStatus,
  });
  ctx.log('info', 'late receipt', { messageId, carrierId, status: late, applied: changed });
  // Also when nothing changed: the carrier's retry of a receipt whose signal failed gets it out.
  try {
    await ctx.temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
      signalStatusCallbacks(ctx.db, ctx.temporal, message),
    );
  } catch (err) {
    throw serviceUnavailable('could not queue the status callback; retry later', err);
  }
}

function lateStatus(
  status: Receipt['status'],
): Extract<MessageStatus, 'delivered' | 'undelivered' | 'expired'> | undefined {
  switch (status) {
    case 'delivered':
      return 'delivered';
    case 'expired':
      return 'expired';
    case 'undelivered':
    case 'failed':
      return 'undelivered';
    case 'enroute':
      return undefined;
  }
}
