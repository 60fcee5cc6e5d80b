/**
 * The webhook's side of receipt intake: the logic lives in services/receipt-intake.ts (shared
 * with the worker's SMPP binds); here a Temporal outage becomes a 503 so the carrier retries.
 */
import type { Receipt } from '../adapters/types.ts';
import { ingestReceipts, ReceiptIntakeUnavailableError } from '../services/receipt-intake.ts';
import type { AppContext } from './context.ts';
import { serviceUnavailable } from './errors.ts';

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
  try {
    await ingestReceipts({ db: ctx.db, temporal: ctx.temporal, log: ctx.log }, carrierId, receipts, rawBody);
  } catch (err) {
    if (err instanceof ReceiptIntakeUnavailableError) throw serviceUnavailable(err.message, err.cause);
    throw err;
  }
}
