/**
 * The cheapest workflows there are, for `npm run bench`'s floors (bench/noop-floor.ts); nothing in
 * production starts them.
 *
 * - `noopWorkflow`: start → one workflow task → complete. The stack's least cost per workflow.
 * - `receiptShapedWorkflow`: start → one workflow task → a signal → a second workflow task →
 *   complete. The least any design costs in which each message is a workflow that awaits its
 *   receipt as a signal (DESIGN §3), with no activity, timer, search attribute or database.
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export async function noopWorkflow(): Promise<void> {}

/** The stand-in for a receipt: no payload. */
export const floorReceiptSignal = defineSignal('floorReceipt');

export async function receiptShapedWorkflow(): Promise<void> {
  let received = false;
  setHandler(floorReceiptSignal, () => {
    received = true;
  });
  await condition(() => received);
}
