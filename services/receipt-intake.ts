/**
 * Carrier receipts after the adapter parsed them (DESIGN §5), whichever process received them —
 * the API's webhook or the worker's SMPP binds: persist (deduped), find our message, signal its
 * workflow a final receipt (an intermediate one is only stored); a closed workflow gets the receipt
 * applied to the row as a late receipt. Callers acknowledge a receipt to the carrier (2xx,
 * `deliver_sm_resp` ESME_ROK) only once this resolved, so none is ever lost.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Receipt } from '../adapters/types.ts';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../config/defaults.ts';
import { findMessageIdByCarrierMessageId, type TransitionPatch, transitionMessage } from '../db/messages.ts';
import { insertReceipt } from '../db/receipts.ts';
import type { Database } from '../db/schema.ts';
import { isMessageId } from '../domain/ids.ts';
import type { MessageStatus } from '../domain/status.ts';
import type { LogFn } from '../observability/logger.ts';
import { type ReceiptSignal, receiptSignal } from '../workflows/definitions.ts';
import { signalStatusCallbacks } from './status-callbacks.ts';

export interface ReceiptIntakeDeps {
  readonly db: Kysely<Database>;
  readonly temporal: Client;
  /** Default: silent. */
  readonly log?: LogFn;
}

/** Temporal could not be reached: the receipt is stored, but the carrier must deliver it again. */
export class ReceiptIntakeUnavailableError extends Error {
  override readonly name = 'ReceiptIntakeUnavailableError';
}

/**
 * Handles every receipt of one carrier delivery (a webhook call, a `deliver_sm`). All are
 * attempted even when one fails.
 *
 * @param raw - the receipt as received (body text, PDU record), stored with each receipt.
 * @returns per receipt, the message it was matched to (undefined: unknown for now; it is stored).
 * @throws the first failure: a {@link ReceiptIntakeUnavailableError} when Temporal is down, or the
 *   database's error.
 */
export async function ingestReceipts(
  deps: ReceiptIntakeDeps,
  carrierId: string,
  receipts: readonly Receipt[],
  raw: string,
): Promise<Array<string | undefined>> {
  const results = await Promise.allSettled(receipts.map((r) => ingestOne(deps, carrierId, r, raw)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
}

async function ingestOne(
  deps: ReceiptIntakeDeps,
  carrierId: string,
  receipt: Receipt,
  raw: string,
): Promise<string | undefined> {
  const messageId =
    receipt.messageId !== undefined && isMessageId(receipt.messageId)
      ? receipt.messageId
      : await findMessageIdByCarrierMessageId(deps.db, carrierId, receipt.carrierMessageId);
  await insertReceipt(deps.db, {
    carrierId,
    carrierMessageId: receipt.carrierMessageId,
    messageId: messageId ?? null,
    status: receipt.status,
    carrierStatus: receipt.carrierStatus,
    errorCode: receipt.errorCode ?? null,
    raw,
  });
  if (messageId === undefined) {
    // Kept in `receipts` for operators; the carrier must not retry it forever.
    deps.log?.('warn', 'receipt for an unknown message', {
      carrierId,
      carrierMessageId: receipt.carrierMessageId,
    });
    return undefined;
  }
  // An intermediate receipt (Twilio's `sent`, Vonage's `buffered`, SMPP's ENROUTE) decides
  // nothing the run waits for (workflows/send-message.ts `finalReceipt`) nor a closed row: stored
  // for operators, not signalled, which would cost the run a workflow task and four history events.
  if (receipt.status === 'enroute') return messageId;
  // Signalled even when the insert was a duplicate: the workflow dedupes, and a receipt whose
  // first signal failed (and was retried by the carrier) is delivered this time.
  const signalled = await signalReceipt(deps.temporal, messageId, toSignal(carrierId, receipt));
  if (!signalled) await applyLateReceipt(deps, messageId, carrierId, receipt);
  return messageId;
}

/**
 * Signals a receipt to the message's workflow.
 *
 * @returns `false` when the workflow is closed or unknown (the receipt is late).
 * @throws ReceiptIntakeUnavailableError when Temporal cannot be reached.
 */
export async function signalReceipt(
  temporal: Client,
  messageId: string,
  receipt: ReceiptSignal,
): Promise<boolean> {
  try {
    await temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
      temporal.workflow.getHandle(messageId).signal(receiptSignal, receipt),
    );
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw new ReceiptIntakeUnavailableError('could not deliver the receipt; retry later', { cause: err });
  }
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
  deps: ReceiptIntakeDeps,
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
  const { changed, message } = await transitionMessage(deps.db, messageId, late, patch, {
    source: 'late_receipt',
    carrierId,
    carrierStatus: r.carrierStatus,
  });
  deps.log?.('info', 'late receipt', { messageId, carrierId, status: late, applied: changed });
  // Also when nothing changed: the carrier's retry of a receipt whose signal failed gets it out.
  try {
    await deps.temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
      signalStatusCallbacks(deps.db, deps.temporal, message),
    );
  } catch (err) {
    throw new ReceiptIntakeUnavailableError('could not queue the status callback; retry later', {
      cause: err,
    });
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
