/**
 * Inbound messages after the adapter read them (DESIGN §11), whichever process received them —
 * the API's webhook or the worker's SMPP binds: a part waits for the rest of its message; a whole
 * message is stored once (deduplicated on the carrier's id) with its keyword applied to the
 * opt-out list; then its workflow (`inbound-<id>`) is started to send the keyword's reply and
 * forward it to the account. Callers acknowledge to the carrier (2xx, `deliver_sm_resp`) only once
 * this resolved: a redelivery after a failure stores nothing twice and starts the same workflow.
 */
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { InboundPart } from '../adapters/types.ts';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../config/defaults.ts';
import { getInbound, storeInbound, storeInboundPart } from '../db/inbound.ts';
import type { InboundMessage } from '../db/schema.ts';
import { PRIORITY_KEYS } from '../domain/priority.ts';
import { MAIN_TASK_QUEUE } from '../workflows/definitions.ts';
import {
  HANDLE_INBOUND_WORKFLOW,
  type HandleInboundInput,
  inboundWorkflowId,
} from '../workflows/inbound-definitions.ts';
import type { ReceiptIntakeDeps } from './receipt-intake.ts';

/** The same as receipts need: the database, the Temporal client, a log. */
export type InboundIntakeDeps = ReceiptIntakeDeps;

/** Temporal could not be reached: the message is stored, but the carrier must deliver it again. */
export class InboundIntakeUnavailableError extends Error {
  override readonly name = 'InboundIntakeUnavailableError';
}

/**
 * Handles the messages (or parts) of one carrier delivery, in order.
 *
 * @returns per part, the stored message it completed (undefined: a part still waiting).
 * @throws InboundIntakeUnavailableError when Temporal is down, or the database's error.
 */
export async function ingestInbound(
  deps: InboundIntakeDeps,
  carrierId: string,
  parts: readonly InboundPart[],
): Promise<Array<InboundMessage | undefined>> {
  const out: Array<InboundMessage | undefined> = [];
  for (const part of parts) out.push(await ingestOne(deps, carrierId, part));
  return out;
}

async function ingestOne(
  deps: InboundIntakeDeps,
  carrierId: string,
  part: InboundPart,
): Promise<InboundMessage | undefined> {
  let whole: { carrierMessageId: string; body: string; parts: number; partIds?: string[] } = {
    carrierMessageId: part.carrierMessageId,
    body: part.text,
    parts: 1,
  };
  if (part.concat) {
    const outcome = await storeInboundPart(deps.db, { carrierId, ...part, ...part.concat });
    if (outcome.state === 'waiting') return undefined;
    if (outcome.state === 'assembled') {
      // A part redelivered after its message was stored: its handling is started (again) as for
      // a redelivered whole message.
      const message = await getInbound(deps.db, outcome.inboundId);
      return message && handOver(deps, carrierId, message, false);
    }
    const { parts } = outcome;
    // The message is known by its first part's id, whichever part completed it.
    whole = {
      carrierMessageId: parts[0]?.carrier_message_id ?? part.carrierMessageId,
      body: parts.map((p) => p.text).join(''),
      parts: parts.length,
      partIds: parts.map((p) => p.carrier_message_id),
    };
  }
  const { inserted, message } = await storeInbound(deps.db, {
    carrierId,
    from: part.from,
    to: part.to,
    ...whole,
  });
  return handOver(deps, carrierId, message, inserted);
}

/** Logs a stored message and starts its workflow (none for a number no account owns). */
async function handOver(
  deps: InboundIntakeDeps,
  carrierId: string,
  message: InboundMessage,
  inserted: boolean,
): Promise<InboundMessage> {
  // Never the numbers or the text: logs are not the place for them.
  if (message.account_id === null) {
    deps.log?.('warn', 'inbound message to a number no account owns; stored only', {
      inboundId: message.id,
      carrierId,
      keyword: message.keyword,
    });
    return message;
  }
  if (inserted) {
    deps.log?.('info', 'inbound message', {
      inboundId: message.id,
      carrierId,
      accountId: message.account_id,
      parts: message.parts,
      keyword: message.keyword,
    });
  }
  await startInboundWorkflow(deps.temporal, { inboundId: message.id, accountId: message.account_id });
  return message;
}

/** Starts the message's workflow; one already started (a redelivery) is fine. */
async function startInboundWorkflow(temporal: Client, input: HandleInboundInput): Promise<void> {
  try {
    await temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
      temporal.workflow.start(HANDLE_INBOUND_WORKFLOW, {
        workflowId: inboundWorkflowId(input.inboundId),
        taskQueue: MAIN_TASK_QUEUE,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // A STOP's confirmation is as urgent as a code; forwarding shares the lane.
        priority: { priorityKey: PRIORITY_KEYS.high, fairnessKey: input.accountId },
        staticSummary: `inbound · ${input.accountId}`,
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw new InboundIntakeUnavailableError('could not start handling the inbound message; retry later', {
      cause: err,
    });
  }
}
