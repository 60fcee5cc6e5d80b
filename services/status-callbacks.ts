/**
 * Feeding a message's status changes to its callback workflow (`cb-<messageId>`). Called after
 * every status transition (activities, late receipts in the API). The signal carries the
 * message's whole event history read from `message_events`, so it is idempotent and a signal lost
 * to a crash between the database commit and the signal is made good by the retry or by the next
 * transition; the workflow delivers each sequence number once, in order.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { listEvents } from '../db/messages.ts';
import type { Database, Message, MessageEvent } from '../db/schema.ts';
import { formatMoney } from '../domain/money.ts';
import { isTerminal } from '../domain/status.ts';
import {
  type CallbackEvent,
  callbackEventsSignal,
  callbackWorkflowId,
  DELIVER_CALLBACKS_WORKFLOW,
  type DeliverCallbacksInput,
} from '../workflows/callback-definitions.ts';
import { MAIN_TASK_QUEUE } from '../workflows/definitions.ts';

/**
 * Signal-with-start the message's callback workflow with its events. A no-op for a message
 * without a callback URL (or undefined: no such message).
 *
 * @throws when Temporal cannot be reached; callers retry (activities) or answer 503 (API).
 */
export async function signalStatusCallbacks(
  db: Kysely<Database>,
  temporal: Client,
  message: Message | undefined,
): Promise<void> {
  if (!message?.callback_url) return;
  const events = callbackEvents(message, await listEvents(db, message.id));
  if (events.length === 0) return;
  const input: DeliverCallbacksInput = { messageId: message.id };
  await temporal.workflow.signalWithStart(DELIVER_CALLBACKS_WORKFLOW, {
    workflowId: callbackWorkflowId(message.id),
    taskQueue: MAIN_TASK_QUEUE,
    args: [input],
    signal: callbackEventsSignal,
    signalArgs: [events],
  });
}

/**
 * The callback events of a message: one per status after `accepted` (the 202 answer already
 * told the client that one). Message-level fields describe the message as it is now, shown only
 * where they belong (carrier from `sending` on; price and error on final statuses).
 */
export function callbackEvents(message: Message, events: readonly MessageEvent[]): CallbackEvent[] {
  const out: CallbackEvent[] = [];
  events.forEach((event, i) => {
    if (event.status === 'accepted') return;
    const final = isTerminal(event.status);
    const hasCarrier =
      event.status !== 'queued' && event.status !== 'scheduled' && event.status !== 'canceled';
    const sequence = i + 1;
    out.push({
      eventId: `${message.id}.${sequence}`,
      messageId: message.id,
      sequence,
      status: event.status,
      previousStatus: events[i - 1]?.status ?? null,
      at: new Date(event.at).toISOString(),
      carrier: hasCarrier ? message.carrier_id : null,
      carrierMessageId: hasCarrier ? message.carrier_message_id : null,
      segments: message.segments,
      price: final && message.price_micros !== null ? formatMoney(message.price_micros) : null,
      error:
        final && message.error_code !== null && message.status === event.status ? errorOf(message) : null,
    });
  });
  return out;
}

function errorOf(message: Message): NonNullable<CallbackEvent['error']> {
  return {
    code: message.error_code ?? 'unknown',
    message: message.error_message ?? message.error_code ?? '',
    ...(message.carrier_error_code === null ? {} : { carrierCode: message.carrier_error_code }),
  };
}
